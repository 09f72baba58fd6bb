import { RegExpParser, type AST } from "@eslint-community/regexpp";

/**
 * Deny-list regular expressions are written by workspace admins and run by V8's backtracking engine, which has
 * no timeout: a pattern like `(a+)+$` takes exponential time on "aaaa…!". So a pattern is accepted only if
 * its worst case is bounded, decided once when the config is validated, from its syntax tree:
 *
 * - every quantifier is bounded (`{0,40}` rather than `*` or `+`), so a match is never longer than
 *   MAX_PATTERN_MATCH_LENGTH — which is also exactly what a stream must hold back for it;
 * - no backreferences and no lookaround (they escape the bound below);
 * - the number of ways the pattern can match from one position (alternatives multiplied along a sequence,
 *   repetitions counted per repeat count) is at most MAX_PATTERN_PATHS. That number bounds how often the engine
 *   can backtrack at one start position: nested and adjacent overlapping quantifiers (`(a{1,9}){1,9}`,
 *   `\w{0,60}\w{0,60}`) multiply it and are refused, while ordinary patterns (`ACME-\d{4,8}`) score a few.
 *
 * `cost` (paths × longest match) bounds the engine's steps per character scanned; the request's scan budget is
 * counted in it (src/guardrails/deny.ts).
 */

export const MAX_PATTERN_MATCH_LENGTH = 256;
export const MAX_PATTERN_PATHS = 64;

export type PatternVerdict = { ok: true; maxLength: number; paths: number; cost: number } | { ok: false; reason: string };

type Shape = { minLength: number; maxLength: number; paths: number };

class Refused extends Error {}

/** Saturating arithmetic: anything past the limits is refused anyway, so numbers never grow unbounded. */
const CAP = 1e9;
const add = (a: number, b: number) => Math.min(CAP, a + b);
const multiply = (a: number, b: number) => Math.min(CAP, a * b);

function alternation(alternatives: readonly AST.Alternative[]): Shape {
  let minLength = CAP;
  let maxLength = 0;
  let paths = 0;
  for (const alternative of alternatives) {
    const shape = sequence(alternative.elements);
    minLength = Math.min(minLength, shape.minLength);
    maxLength = Math.max(maxLength, shape.maxLength);
    paths = add(paths, shape.paths);
  }
  return { minLength, maxLength, paths };
}

function sequence(elements: readonly AST.Element[]): Shape {
  let minLength = 0;
  let maxLength = 0;
  let paths = 1;
  for (const element of elements) {
    const shape = elementShape(element);
    minLength = add(minLength, shape.minLength);
    maxLength = add(maxLength, shape.maxLength);
    paths = multiply(paths, shape.paths);
  }
  return { minLength, maxLength, paths };
}

function elementShape(element: AST.Element): Shape {
  switch (element.type) {
    case "Character":
    case "CharacterClass":
    case "CharacterSet":
    case "ExpressionCharacterClass":
      return { minLength: 1, maxLength: 1, paths: 1 };
    case "Assertion":
      if (element.kind === "lookahead" || element.kind === "lookbehind") throw new Refused("lookahead and lookbehind are not allowed");
      return { minLength: 0, maxLength: 0, paths: 1 };
    case "Backreference":
      throw new Refused("backreferences are not allowed");
    case "Group":
    case "CapturingGroup":
      return alternation(element.alternatives);
    case "Quantifier": {
      if (!Number.isFinite(element.max)) throw new Refused(`unbounded quantifier "${element.raw}": give it an upper bound, e.g. {1,40}`);
      const inner = elementShape(element.element);
      // Ways to match: the sum over repeat counts k of inner^k.
      let paths = 0;
      let power = inner.paths ** element.min;
      for (let k = element.min; k <= element.max && paths < CAP; k++) {
        paths = add(paths, Math.min(CAP, power));
        power = multiply(power, inner.paths);
      }
      return { minLength: multiply(inner.minLength, element.min), maxLength: multiply(inner.maxLength, element.max), paths };
    }
  }
}

/** Checks one deny pattern (compiled without the `u` flag, case-insensitive unless the rule says otherwise). */
export function checkDenyPattern(source: string): PatternVerdict {
  let pattern: AST.Pattern;
  try {
    pattern = new RegExpParser({ ecmaVersion: 2025 }).parsePattern(source, 0, source.length, { unicode: false });
    // The parser follows the specification; the runtime's engine must accept it too.
    new RegExp(source);
  } catch (error) {
    return { ok: false, reason: `not a valid regular expression (${error instanceof Error ? error.message : "syntax error"})` };
  }
  try {
    const shape = alternation(pattern.alternatives);
    if (shape.minLength === 0) return { ok: false, reason: "the pattern can match empty text" };
    if (shape.maxLength > MAX_PATTERN_MATCH_LENGTH) return { ok: false, reason: `a match can be ${shape.maxLength >= CAP ? "very" : shape.maxLength} characters long; at most ${MAX_PATTERN_MATCH_LENGTH} are allowed` };
    if (shape.paths > MAX_PATTERN_PATHS) {
      return { ok: false, reason: `the pattern can match in ${shape.paths >= CAP ? "too many" : shape.paths} ways from one position (nested or adjacent overlapping quantifiers); at most ${MAX_PATTERN_PATHS} are allowed` };
    }
    return { ok: true, maxLength: shape.maxLength, paths: shape.paths, cost: shape.paths * shape.maxLength };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, reason: error.message };
    throw error;
  }
}
