import { GatewayError } from "../lib/errors";
import type { CompiledRule } from "./compile";
import type { ScanBudget } from "./deny";
import type { PlaceholderVault } from "./placeholders";
import { findHits, type Hit } from "./scan";
import type { GuardrailTally } from "./tally";

export type Side = "input" | "output";

/** What the checks of one request share: its placeholders, its counts and its scan budget. */
export type CheckContext = { vault: PlaceholderVault; tally: GuardrailTally; budget: ScanBudget };

/** The refusal of a `block` rule: names the rule, never what it matched. */
export function blockedBy(rule: string, side: Side): GatewayError {
  return new GatewayError({
    status: 400,
    type: "guardrail",
    code: "guardrail_blocked",
    message: `${side === "input" ? "The request" : "The answer"} was blocked by guardrail rule "${rule}".`,
    headers: { "x-switchyard-guardrail": rule },
  });
}

/**
 * `text` with `hits` acted on: a `block` hit refuses (throws), `redact` hits are replaced by their
 * placeholders, `flag` hits are counted and left as they are.
 */
export function applyHits(text: string, hits: readonly Hit[], side: Side, context: CheckContext): string {
  if (hits.length === 0) return text;
  const block = hits.find((hit) => hit.rule.action === "block");
  if (block) {
    context.tally.add(block.rule.name, "blocked");
    throw blockedBy(block.rule.name, side);
  }
  let out = "";
  let from = 0;
  for (const hit of hits) {
    if (hit.rule.action === "flag") {
      context.tally.add(hit.rule.name, "flagged");
      continue;
    }
    context.tally.add(hit.rule.name, "redacted");
    out += text.slice(from, hit.start) + context.vault.placeholderFor(hit.placeholder, text.slice(hit.start, hit.end));
    from = hit.end;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** One whole text (a prompt part, a complete answer) checked against `rules`. */
export function checkText(text: string, rules: readonly CompiledRule[], side: Side, context: CheckContext): string {
  if (text === "") return text;
  return applyHits(text, findHits(text, rules, context.budget), side, context);
}

/**
 * Released characters the scan still sees in front of new text, so matches that need to look behind (a word
 * boundary) see what came before. Matches starting there were decided already.
 */
const CONTEXT_CHARS = 8;

/**
 * Checks a text that arrives in pieces (a streamed answer, a streamed tool call's arguments). Each piece is
 * released as soon as no match can still be growing across its end; only that tail — at most the longest
 * match of the rules, far less for most text — is held back. Matches are acted on exactly once, when final.
 */
export class StreamTextCheck {
  readonly #rules: readonly CompiledRule[];
  readonly #context: CheckContext;
  #seen = "";
  #pending = "";

  constructor(rules: readonly CompiledRule[], context: CheckContext) {
    this.#rules = rules;
    this.#context = context;
  }

  /** The checked text that can be released now that `piece` arrived. */
  push(piece: string): string {
    const text = this.#seen + this.#pending + piece;
    const offset = this.#seen.length;
    let safe = text.length;
    for (const rule of this.#rules) for (const { matcher } of rule.matchers) safe = Math.min(safe, matcher.heldFrom(text));
    safe = Math.max(safe, offset);
    const hits = findHits(text, this.#rules, this.#context.budget).filter((hit) => hit.start >= offset);
    // A match that reaches past the safe point may still grow: hold it back whole.
    for (let i = hits.length - 1; i >= 0; i--) if (hits[i]!.end > safe) safe = Math.min(safe, hits[i]!.start);
    return this.#release(text, offset, safe, hits.filter((hit) => hit.end <= safe));
  }

  /** The rest, at the end of the text: every match is final now. */
  flush(): string {
    const text = this.#seen + this.#pending;
    const offset = this.#seen.length;
    if (text.length === offset) return "";
    const hits = findHits(text, this.#rules, this.#context.budget).filter((hit) => hit.start >= offset);
    return this.#release(text, offset, text.length, hits);
  }

  #release(text: string, offset: number, end: number, hits: readonly Hit[]): string {
    this.#pending = text.slice(end);
    this.#seen = text.slice(Math.max(0, end - CONTEXT_CHARS), end);
    if (end === offset) return "";
    const shifted = hits.map((hit) => ({ ...hit, start: hit.start - offset, end: hit.end - offset }));
    return applyHits(text.slice(offset, end), shifted, "output", this.#context);
  }
}
