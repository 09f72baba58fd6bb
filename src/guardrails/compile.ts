import { compileDenyList } from "./deny";
import { DETECTORS } from "./detectors";
import type { Matcher } from "./detectors/span";
import type { GuardrailAction, GuardrailPolicy, GuardrailsConfig, InputRule } from "./schema";

/**
 * A policy compiled for requests: every detector looked up and every deny list turned into one expression,
 * once per config version (cached below), so serving a request compiles nothing.
 */

export type CompiledMatcher = {
  matcher: Matcher;
  /** The placeholder type of its redactions (EMAIL, CARD, …; REDACTED for deny lists). */
  placeholder: string;
  /** Only text with a digit can match (cards, phones, SSNs, IBANs): skipped on text without one. */
  needsDigit: boolean;
  /** Budget units per character scanned (deny lists only). */
  costPerChar: number;
};

export type CompiledRule = {
  name: string;
  action: GuardrailAction;
  /** How severe its action is: when matches of several rules overlap, the most severe rule's wins. */
  severity: number;
  matchers: CompiledMatcher[];
  /** Size rules only. */
  maxChars?: number;
};

export type CompiledPolicy = {
  name: string;
  input: CompiledRule[];
  output: CompiledRule[];
  restore: boolean;
};

const SEVERITY: Record<GuardrailAction, number> = { block: 3, redact: 2, flag: 1 };
const NEEDS_DIGIT = new Set(["phone", "card", "iban", "ssn"]);

function compileRule(rule: InputRule): CompiledRule {
  const base = { name: rule.name, action: rule.action, severity: SEVERITY[rule.action] };
  if ("maxChars" in rule) return { ...base, matchers: [], maxChars: rule.maxChars };
  if ("deny" in rule) {
    const list = compileDenyList(rule.deny);
    return { ...base, matchers: [{ matcher: list, placeholder: "REDACTED", needsDigit: false, costPerChar: list.costPerChar }] };
  }
  return {
    ...base,
    matchers: [...new Set(rule.detect)].map((name) => ({ matcher: DETECTORS[name].matcher, placeholder: DETECTORS[name].placeholder, needsDigit: NEEDS_DIGIT.has(name), costPerChar: 0 })),
  };
}

function compilePolicy(name: string, policy: GuardrailPolicy): CompiledPolicy {
  return { name, input: policy.input.map(compileRule), output: policy.output.map(compileRule), restore: policy.restore };
}

export type CompiledGuardrails = {
  policies: Map<string, CompiledPolicy>;
  settings: GuardrailsConfig;
};

/**
 * Compiled sections by config object, and by the section's text: a workspace's config is re-read every few
 * seconds (a new object each time), but the same version compiles once per isolate.
 */
const byObject = new WeakMap<GuardrailsConfig, CompiledGuardrails>();
const byText = new Map<string, CompiledGuardrails>();
/** Config versions whose compiled form an isolate keeps (a few per workspace it serves). */
const MAX_COMPILED_VERSIONS = 200;

export function compileGuardrails(settings: GuardrailsConfig): CompiledGuardrails {
  const known = byObject.get(settings);
  if (known) return known;
  const text = JSON.stringify(settings);
  let compiled = byText.get(text);
  if (!compiled) {
    compiled = { settings, policies: new Map(Object.entries(settings.policies).map(([name, policy]) => [name, compilePolicy(name, policy)])) };
    if (byText.size >= MAX_COMPILED_VERSIONS) byText.delete(byText.keys().next().value!);
    byText.set(text, compiled);
  }
  byObject.set(settings, compiled);
  return compiled;
}

/** The policy of a request: its key's (by key id), else its route's, else the workspace default; none is `undefined`. */
export function policyFor(settings: GuardrailsConfig | undefined, keyId: string | undefined, route: string | undefined): CompiledPolicy | undefined {
  if (!settings) return undefined;
  const compiled = compileGuardrails(settings);
  let name: string | null | undefined = settings.default;
  if (route !== undefined && settings.routes && route in settings.routes) name = settings.routes[route];
  if (keyId !== undefined && settings.keys && keyId in settings.keys) name = settings.keys[keyId];
  return name ? compiled.policies.get(name) : undefined;
}
