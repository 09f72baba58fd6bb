import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/validate";
import { checkText, StreamTextCheck, type CheckContext } from "../../src/guardrails/check";
import { compileGuardrails, policyFor, type CompiledRule } from "../../src/guardrails/compile";
import { compileDenyList, ScanBudget } from "../../src/guardrails/deny";
import { checkDenyPattern } from "../../src/guardrails/deny-pattern";
import { PlaceholderVault, StreamRestorer } from "../../src/guardrails/placeholders";
import type { GuardrailsConfig } from "../../src/guardrails/schema";
import { GuardrailTally } from "../../src/guardrails/tally";
import { GatewayError } from "../../src/lib/errors";

const newContext = (budget = new ScanBudget()): CheckContext => ({ vault: new PlaceholderVault(), tally: new GuardrailTally(), budget });

function rulesOf(rules: unknown[]): CompiledRule[] {
  const parsed = parseConfig({ providers: {}, guardrails: { policies: { p: { output: rules } }, default: "p" } });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return policyFor(parsed.config.guardrails, undefined, undefined)!.output;
}

const PII = rulesOf([
  { name: "pii", detect: ["email", "phone", "card", "iban", "ssn", "ip"], action: "redact" },
  { name: "keys", detect: ["secret"], action: "redact" },
  { name: "words", deny: { words: ["Project Apollo"] }, action: "redact" },
]);

/** Feeds `text` to a stream check in pieces of `size` characters; returns what it released. */
function streamed(text: string, size: number, rules: CompiledRule[], context = newContext()): string {
  const check = new StreamTextCheck(rules, context);
  let out = "";
  for (let i = 0; i < text.length; i += size) out += check.push(text.slice(i, i + size));
  return out + check.flush();
}

describe("deny patterns are checked when the config is validated", () => {
  it.each(["ACME-\\d{4,8}", "\\bproject[ -]?apollo\\b", "(?:cat|dog){1,3}", "[A-Z]{2}\\d{6,10}", ".{0,60}secret"])("accepts %s", (pattern) => {
    expect(checkDenyPattern(pattern).ok).toBe(true);
  });
  it.each([
    ["(a+)+$", /unbounded/],
    ["\\d+", /unbounded/],
    ["(a{1,9}){1,9}", /ways from one position/],
    ["[a-z]{1,40}[a-z]{1,40}!", /ways from one position/],
    ["(a|a){1,30}", /ways from one position/],
    ["(a)\\1", /backreferences/],
    ["(?=a)b", /lookahead/],
    ["a{0,3}", /empty/],
    ["x{300}", /at most 256/],
    ["[", /not a valid regular expression/],
  ])("refuses %s", (pattern, reason) => {
    const verdict = checkDenyPattern(pattern);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(reason);
  });
  it("names the bad pattern's path in the config", () => {
    const parsed = parseConfig({ providers: {}, guardrails: { policies: { p: { input: [{ name: "d", deny: { patterns: ["ok-\\d{2}", "(x+)+y"] }, action: "block" }] } } } });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues).toContainEqual({ path: "guardrails.policies.p.input[0].deny.patterns[1]", message: expect.stringMatching(/unbounded/) });
  });
  it("checks the section's references to policies and routes", () => {
    const parsed = parseConfig({
      providers: {},
      guardrails: { policies: { p: {} }, default: "nope", routes: { ghost: "p" }, keys: { key_1: "missing" } },
    });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["guardrails.default", "guardrails.routes.ghost", "guardrails.keys.key_1"]));
    }
  });
});

describe("deny lists", () => {
  it("matches words whole and case-insensitively, patterns as written", () => {
    const list = compileDenyList({ words: ["apollo", "blue moon"], patterns: ["ACME-\\d{4}"] });
    const text = "Apollo, apollonian, BLUE MOON and acme-1234 but not ACME-12";
    expect(list.find(text).map((s) => text.slice(s.start, s.end))).toEqual(["Apollo", "BLUE MOON", "acme-1234"]);
    expect(compileDenyList({ words: ["Apollo"], caseSensitive: true }).find("apollo Apollo")).toEqual([{ start: 7, end: 13 }]);
  });
  it("refuses a request whose deny-pattern scan would pass the budget", () => {
    const rules = rulesOf([{ name: "codes", deny: { patterns: [".{0,60}secret"] }, action: "flag" }]);
    const error = (() => {
      try {
        checkText("x".repeat(20_000), rules, "output", newContext());
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 400, type: "guardrail", code: "guardrail_budget_exceeded" });
    expect((error as GatewayError).message).toContain('"codes"');
    // The same scan on ordinary text is well within it.
    expect(() => checkText("x".repeat(1_000), rules, "output", newContext())).not.toThrow();
  });
});

describe("checking a whole text", () => {
  it("redacts with typed placeholders, the same value with the same placeholder", () => {
    const context = newContext();
    const out = checkText("Mail a@x.io or b@y.io, again a@x.io; card 4111 1111 1111 1111; Project Apollo.", PII, "output", context);
    expect(out).toBe("Mail [EMAIL_1] or [EMAIL_2], again [EMAIL_1]; card [CARD_1]; [REDACTED_1].");
    expect(context.tally.toJSON()).toEqual({ pii: { flagged: 0, redacted: 4, blocked: 0 }, words: { flagged: 0, redacted: 1, blocked: 0 } });
  });
  it("keeps the more severe rule where matches overlap", () => {
    const rules = rulesOf([
      { name: "phones", detect: ["phone"], action: "flag" },
      { name: "cards", detect: ["card"], action: "redact" },
    ]);
    const context = newContext();
    expect(checkText("n 4111111111111111 and +1 415 555 0100", rules, "output", context)).toBe("n [CARD_1] and +1 415 555 0100");
    expect(context.tally.toJSON()).toEqual({ cards: { flagged: 0, redacted: 1, blocked: 0 }, phones: { flagged: 1, redacted: 0, blocked: 0 } });
  });
  it("blocks with the rule's name, never the match", () => {
    const rules = rulesOf([{ name: "no-ssn", detect: ["ssn"], action: "block" }]);
    const context = newContext();
    expect(() => checkText("my ssn is 123-45-6789", rules, "input", context)).toThrow(expect.objectContaining({ type: "guardrail", message: expect.stringContaining('"no-ssn"') }));
    try {
      checkText("my ssn is 123-45-6789", rules, "input", newContext());
    } catch (error) {
      expect(JSON.stringify((error as GatewayError).toOpenAI())).not.toContain("6789");
    }
    expect(context.tally.toJSON()).toEqual({ "no-ssn": { flagged: 0, redacted: 0, blocked: 1 } });
  });
});

describe("checking a stream", () => {
  const text =
    "Reach jane.doe@example.com or +1 415 555 0100. Card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, " +
    "SSN 123-45-6789 from 10.0.0.1 with key sk-proj-abcdefghijklmnopqrstuvwx1234 about Project Apollo. Not a card: 4111 1111 1111 1112.";
  const whole = checkText(text, PII, "output", newContext());

  it.each([1, 2, 3, 5, 7, 13, 64])("gives the same text as the whole check, in pieces of %i", (size) => {
    expect(streamed(text, size, PII)).toBe(whole);
  });
  it("counts each match once", () => {
    const context = newContext();
    streamed(text, 3, PII, context);
    expect(context.tally.toJSON()).toEqual({ pii: { flagged: 0, redacted: 6, blocked: 0 }, keys: { flagged: 0, redacted: 1, blocked: 0 }, words: { flagged: 0, redacted: 1, blocked: 0 } });
  });
  it("releases text at once when nothing can still become a match", () => {
    const check = new StreamTextCheck(PII, newContext());
    expect(check.push("Hello there, ")).toBe("Hello there, ");
    expect(check.push("call +1 415")).toBe("call ");
    expect(check.push(" 555 0100 now")).toBe("[PHONE_1] ");
    expect(check.flush()).toBe("now");
  });
  it("blocks mid-stream only when the match is complete, after the text before it went out", () => {
    const rules = rulesOf([{ name: "no-cards", detect: ["card"], action: "block" }]);
    const check = new StreamTextCheck(rules, newContext());
    expect(check.push("Your number is 4111 ")).toBe("Your number is ");
    expect(check.push("1111 1111 ")).toBe("");
    expect(() => check.push("1111.")).toThrow(expect.objectContaining({ type: "guardrail", code: "guardrail_blocked" }));
  });
});

describe("reversible redaction", () => {
  it("maps the placeholders it issued back, and no others, across any split", () => {
    const vault = new PlaceholderVault();
    const email = vault.placeholderFor("EMAIL", "jane@example.com");
    const answer = `Dear ${email}, [EMAIL_9] is not yours; [EMAIL_1] again.`;
    const expected = "Dear jane@example.com, [EMAIL_9] is not yours; jane@example.com again.";
    expect(vault.restore(answer)).toBe(expected);
    for (const size of [1, 2, 4, 9]) {
      const restorer = new StreamRestorer(vault);
      let out = "";
      for (let i = 0; i < answer.length; i += size) out += restorer.push(answer.slice(i, i + size));
      expect(out + restorer.flush()).toBe(expected);
    }
  });
});

describe("policy selection", () => {
  const settings: GuardrailsConfig = {
    policies: { base: { input: [], output: [], restore: false }, strict: { input: [], output: [], restore: true } },
    default: "base",
    routes: { open: null, secure: "strict" },
    keys: { key_vip: null, key_audit: "strict" },
  };
  it("takes the key's policy, else the route's, else the default", () => {
    expect(policyFor(settings, "key_other", "smart")?.name).toBe("base");
    expect(policyFor(settings, "key_other", "secure")?.name).toBe("strict");
    expect(policyFor(settings, "key_other", "open")).toBeUndefined();
    expect(policyFor(settings, "key_vip", "secure")).toBeUndefined();
    expect(policyFor(settings, "key_audit", "open")?.name).toBe("strict");
  });
  it("compiles a config version once", () => {
    expect(compileGuardrails(settings)).toBe(compileGuardrails(structuredClone(settings)));
  });
});
