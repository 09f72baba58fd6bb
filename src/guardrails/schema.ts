import * as z from "zod";
import { compileDenyList } from "./deny";
import { checkDenyPattern, MAX_PATTERN_MATCH_LENGTH } from "./deny-pattern";
import { DETECTOR_NAMES } from "./detectors";

/**
 * The `guardrails` section of the config document: named policies of input and output rules, and which policy
 * applies to a request — its key's, else its route's, else the workspace default. docs/guardrails.md has the
 * full description.
 */

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const RuleNameSchema = z.string().regex(NAME, "rule names use 1–64 letters, digits, _ . -").describe("Names the rule in errors, logs, usage events and the dashboard.");
const PolicyNameSchema = z.string().regex(NAME, "policy names use 1–64 letters, digits, _ . -");

export const GuardrailActionSchema = z
  .enum(["redact", "block", "flag"])
  .describe("redact: replace each match with a typed placeholder ([EMAIL_1]); block: refuse (400, type `guardrail`); flag: pass and record it.");
export type GuardrailAction = z.infer<typeof GuardrailActionSchema>;

export const DetectRuleSchema = z
  .strictObject({
    name: RuleNameSchema,
    detect: z.array(z.enum(DETECTOR_NAMES)).min(1).describe("Built-in detectors: email, phone, card (Luhn-checked), iban (mod-97), ssn, ip, secret."),
    action: GuardrailActionSchema,
  })
  .describe("Built-in detectors of personal data and credentials.");

export const DenyRuleSchema = z
  .strictObject({
    name: RuleNameSchema,
    deny: z
      .strictObject({
        words: z.array(z.string().min(1).max(200)).max(1_000).optional().describe("Words or phrases, matched whole and literally."),
        patterns: z
          .array(z.string().min(1).max(1_000))
          .max(50)
          .optional()
          .describe(`JavaScript regular expressions with bounded quantifiers ({1,40}, not + or *), no backreferences or lookaround, matches at most ${MAX_PATTERN_MATCH_LENGTH} characters.`),
        caseSensitive: z.boolean().default(false),
      })
      .superRefine((deny, ctx) => {
        if (!deny.words?.length && !deny.patterns?.length) ctx.addIssue({ code: "custom", message: "give words, patterns or both" });
        let valid = true;
        for (const [index, pattern] of (deny.patterns ?? []).entries()) {
          const verdict = checkDenyPattern(pattern);
          if (!verdict.ok) {
            valid = false;
            ctx.addIssue({ code: "custom", path: ["patterns", index], message: verdict.reason });
          }
        }
        if (!valid) return;
        try {
          compileDenyList(deny);
        } catch (error) {
          ctx.addIssue({ code: "custom", path: ["patterns"], message: `the patterns do not compile together: ${error instanceof Error ? error.message : String(error)}` });
        }
      }),
    action: GuardrailActionSchema,
  })
  .describe("A deny list of words and regular expressions.");

export const SizeRuleSchema = z
  .strictObject({
    name: RuleNameSchema,
    maxChars: z.number().int().positive().describe("The prompt's text (every message's text parts and tool-call arguments), in characters."),
    action: z.enum(["block", "flag"]),
  })
  .describe("A maximum prompt size (input only).");

export const InputRuleSchema = z.union([DetectRuleSchema, DenyRuleSchema, SizeRuleSchema]);
export const OutputRuleSchema = z.union([DetectRuleSchema, DenyRuleSchema]);
export type InputRule = z.infer<typeof InputRuleSchema>;
export type OutputRule = z.infer<typeof OutputRuleSchema>;

export const GuardrailPolicySchema = z
  .strictObject({
    input: z.array(InputRuleSchema).default([]).describe("Checked on the prompt before any upstream call."),
    output: z.array(OutputRuleSchema).default([]).describe("Checked on the answer, streamed or not."),
    restore: z.boolean().default(false).describe("Map the placeholders of input redactions back to the original text in this request's answer."),
  })
  .superRefine((policy, ctx) => {
    for (const side of ["input", "output"] as const) {
      const seen = new Set<string>();
      for (const [index, rule] of policy[side].entries()) {
        if (seen.has(rule.name)) ctx.addIssue({ code: "custom", path: [side, index, "name"], message: `rule "${rule.name}" appears twice in ${side}` });
        seen.add(rule.name);
      }
    }
  });
export type GuardrailPolicy = z.infer<typeof GuardrailPolicySchema>;

export const GuardrailsSchema = z
  .strictObject({
    policies: z.record(PolicyNameSchema, GuardrailPolicySchema),
    default: PolicyNameSchema.optional().describe("The policy of requests whose key and route name none."),
    routes: z.record(z.string().min(1), PolicyNameSchema.nullable()).optional().describe("Per route name: a policy, or null for none."),
    keys: z.record(z.string().min(1), PolicyNameSchema.nullable()).optional().describe("Per gateway key id (key_…): a policy, or null for none. Wins over the route's."),
  })
  .describe("Guardrails: PII redaction, deny lists and size limits on prompts and answers (docs/guardrails.md).");
export type GuardrailsConfig = z.infer<typeof GuardrailsSchema>;

/** References the section makes: every policy it names exists, every route it names too. */
export function guardrailReferenceIssues(guardrails: GuardrailsConfig, routeNames: ReadonlySet<string>): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const known = (name: string | null | undefined) => name === null || name === undefined || name in guardrails.policies;
  if (!known(guardrails.default)) issues.push({ path: ["guardrails", "default"], message: `unknown policy "${guardrails.default}"` });
  for (const [route, policy] of Object.entries(guardrails.routes ?? {})) {
    if (!routeNames.has(route)) issues.push({ path: ["guardrails", "routes", route], message: `unknown route "${route}"` });
    if (!known(policy)) issues.push({ path: ["guardrails", "routes", route], message: `unknown policy "${policy}"` });
  }
  for (const [key, policy] of Object.entries(guardrails.keys ?? {})) {
    if (!known(policy)) issues.push({ path: ["guardrails", "keys", key], message: `unknown policy "${policy}"` });
  }
  return issues;
}
