import { checkText, type CheckContext } from "../../src/guardrails/check.ts";
import { compileDenyList, DENY_SCAN_BUDGET, ScanBudget } from "../../src/guardrails/deny.ts";
import { checkDenyPattern } from "../../src/guardrails/deny-pattern.ts";
import { DETECTORS } from "../../src/guardrails/detectors/index.ts";
import { policyFor } from "../../src/guardrails/compile.ts";
import { PlaceholderVault } from "../../src/guardrails/placeholders.ts";
import { GuardrailTally } from "../../src/guardrails/tally.ts";
import { parseConfig } from "../../src/config/validate.ts";
import type { StreamRenderer } from "../../src/dialects/stream-renderer.ts";
import { RequestGuard } from "../../src/guardrails/request.ts";
import type { ChatRequest, StreamEvent } from "../../src/schema/internal.ts";

/**
 * `npx tsx scripts/bench/guardrail-scan.ts`: the guardrail scanners on their own, on V8 (the engine workerd
 * runs): nanoseconds per character for each built-in detector on ordinary text and on text dense with
 * candidates, and the worst case of deny patterns the config accepts — the figures the deny-scan budget
 * (src/guardrails/deny.ts) is set from. docs/guardrails.md quotes one run.
 */

const PROSE = "The quarterly review is on Thursday; bring the draft, the figures for Q3 and your notes. ".repeat(400);
const DENSE =
  "Mail jane.doe@example.com, call +1 415 555 0100, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, host 10.0.0.1, key sk-proj-abcdefghijklmnopqrstuvwx1234. ".repeat(200);

function nsPerChar(text: string, run: () => void): number {
  for (let i = 0; i < 20; i++) run();
  const rounds = 200;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) run();
  return Number(process.hrtime.bigint() - started) / rounds / text.length;
}

console.log(`built-in detectors, ns per character (prose ${PROSE.length} chars / dense ${DENSE.length} chars):`);
for (const [name, { matcher }] of Object.entries(DETECTORS)) {
  console.log(`  ${name.padEnd(8)} ${nsPerChar(PROSE, () => matcher.find(PROSE)).toFixed(2).padStart(8)} ${nsPerChar(DENSE, () => matcher.find(DENSE)).toFixed(2).padStart(8)}`);
}
const parsed = parseConfig({ providers: {}, guardrails: { policies: { all: { input: [{ name: "all", detect: Object.keys(DETECTORS), action: "redact" }] } }, default: "all" } });
if (!parsed.ok) throw new Error("bench config invalid");
const rules = policyFor(parsed.config.guardrails, undefined, undefined)!.input;
const context = (): CheckContext => ({ vault: new PlaceholderVault(), tally: new GuardrailTally(), budget: new ScanBudget() });
console.log(`  all, redacting: prose ${nsPerChar(PROSE, () => checkText(PROSE, rules, "input", context())).toFixed(2)}, dense ${nsPerChar(DENSE, () => checkText(DENSE, rules, "input", context())).toFixed(2)}`);
const small = "Say hello.";
const started = process.hrtime.bigint();
for (let i = 0; i < 100_000; i++) checkText(small, rules, "input", context());
console.log(`  all, on "${small}": ${(Number(process.hrtime.bigint() - started) / 100_000 / 1000).toFixed(2)} µs per check`);

// The streaming path of bench case (h): the prompt's input check, then the bench upstream's stream (a start, five
// text pieces, the finish and usage) rendered through the output checks, against the same stream rendered bare.
const guarded = parseConfig({
  providers: {},
  guardrails: { policies: { all: { input: [{ name: "in", detect: Object.keys(DETECTORS), action: "redact" }], output: [{ name: "out", detect: Object.keys(DETECTORS), action: "redact" }] } }, default: "all" },
});
if (!guarded.ok) throw new Error("bench config invalid");
const policy = policyFor(guarded.config.guardrails, undefined, undefined)!;
const request: ChatRequest = { model: "bench", messages: [{ role: "user", content: [{ type: "text", text: small }] }], stream: true, includeUsage: false };
const events: StreamEvent[] = [
  { type: "start", id: "chatcmpl-bench", model: "gpt-4o-mini" },
  ...[1, 2, 3, 4, 5].map((n): StreamEvent => ({ type: "text", delta: `token${n} ` })),
  { type: "finish", finishReason: "stop" },
  { type: "usage", usage: { promptTokens: 12, completionTokens: 5 } },
];
const perStream = (guard: boolean) => {
  const runs = 50_000;
  const go = () => {
    // A stand-in for the dialect renderer (the same for both sides): one SSE frame per event.
    const renderer: StreamRenderer = { event: (e) => `data: ${JSON.stringify(e)}\n\n`, error: () => "" };
    if (!guard) return events.map((e) => renderer.event(e)).join("");
    const requestGuard = new RequestGuard(policy);
    requestGuard.checkInput(request);
    const wrapped = requestGuard.guardStream(renderer);
    return events.map((e) => wrapped.event(e)).join("");
  };
  for (let i = 0; i < 5_000; i++) go();
  const begun = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) go();
  return Number(process.hrtime.bigint() - begun) / runs / 1000;
};
const bare = perStream(false);
const withGuard = perStream(true);
console.log(`  bench stream (input check + 8 events): ${bare.toFixed(2)} µs bare, ${withGuard.toFixed(2)} µs with every detector on input and output (+${(withGuard - bare).toFixed(2)} µs per stream; the first event is never held)`);

/** Accepted patterns chosen to backtrack as much as the checks allow, on input built to make them do it. */
const HOSTILE: { pattern: string; input: string }[] = [
  { pattern: ".{0,62}secret", input: "a".repeat(20_000) },
  { pattern: "[a-z]{1,8}[a-z]{1,8}!", input: "a".repeat(20_000) },
  { pattern: "(?:a|b|ab){1,3}c", input: "ab".repeat(10_000) },
  { pattern: "ACME-\\d{4,8}", input: "ACME-123 ".repeat(2_000) },
];
console.log(`\nworst accepted deny patterns (ns per character, engine-step cost per character, ns per budget unit):`);
let worstNsPerUnit = 0;
for (const { pattern, input } of HOSTILE) {
  const verdict = checkDenyPattern(pattern);
  if (!verdict.ok) throw new Error(`${pattern}: ${verdict.reason}`);
  const list = compileDenyList({ patterns: [pattern] });
  const ns = nsPerChar(input, () => list.find(input));
  worstNsPerUnit = Math.max(worstNsPerUnit, ns / list.costPerChar);
  console.log(`  ${pattern.padEnd(24)} ${ns.toFixed(2).padStart(9)} ${String(list.costPerChar).padStart(6)} ${(ns / list.costPerChar).toFixed(4).padStart(9)}`);
}
console.log(`\nthe budget (${DENY_SCAN_BUDGET.toLocaleString("en-US")} units) stands for at most ${((worstNsPerUnit * DENY_SCAN_BUDGET) / 1e6).toFixed(1)} ms of deny-pattern scanning per request at the worst rate above`);
for (const pattern of ["(a+)+$", "(a|a){1,30}b", "\\w{1,60}\\w{1,60}!"]) {
  const verdict = checkDenyPattern(pattern);
  console.log(`  refused at config time: ${pattern} — ${verdict.ok ? "ACCEPTED (unexpected)" : verdict.reason}`);
}
