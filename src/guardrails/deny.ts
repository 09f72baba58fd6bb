import { GatewayError } from "../lib/errors";
import { checkDenyPattern } from "./deny-pattern";
import { charTable, heldFromRun, wordBefore, type Matcher, type Span } from "./detectors/span";

/**
 * Deny lists: words (whole words or phrases, matched literally) and regular expressions (checked when the
 * config is validated: src/guardrails/deny-pattern.ts). Each rule's entries are compiled into one expression,
 * once per config version (src/guardrails/compile.ts), so a request never compiles anything.
 */

export type DenyList = { words?: readonly string[] | undefined; patterns?: readonly string[] | undefined; caseSensitive?: boolean | undefined };

/**
 * What the deny-pattern scans of one request may cost, in the engine steps their patterns are bounded by
 * (characters scanned × each pattern's cost). JavaScript regular expressions cannot be interrupted and Workers'
 * clocks do not advance while code runs, so the budget is counted in work, not time: docs/guardrails.md gives
 * the measured time it stands for. A request past it is refused — the checks fail closed.
 */
export const DENY_SCAN_BUDGET = 50_000_000;

/** The work one request's deny-list scans have left. */
export class ScanBudget {
  #left: number;
  constructor(units = DENY_SCAN_BUDGET) {
    this.#left = units;
  }
  /** Spends `units` for a scan by rule `rule`, or refuses the request when they are not left. */
  spend(rule: string, units: number): void {
    this.#left -= units;
    if (this.#left < 0) {
      throw new GatewayError({
        status: 400,
        type: "guardrail",
        code: "guardrail_budget_exceeded",
        message: `The request is too large for guardrail rule "${rule}" to check within its budget; send less text.`,
      });
    }
  }
}

const WORD_CHAR = "A-Za-z0-9_";
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** A compiled deny list: a matcher, and what one character scanned by it costs against the budget. */
export type CompiledDenyList = Matcher & { costPerChar: number };

function globalMatches(regex: RegExp, text: string): Span[] {
  const spans: Span[] = [];
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (match[0] === "") {
      regex.lastIndex++;
      continue;
    }
    spans.push({ start: match.index, end: match.index + match[0].length });
  }
  return spans;
}

/** Compiles a validated deny list. Throws on an invalid pattern (the config schema rejects those first). */
export function compileDenyList(list: DenyList): CompiledDenyList {
  const flags = list.caseSensitive ? "g" : "gi";
  const alternatives: string[] = [];
  let wordsMax = 0;
  let costPerChar = 0;
  let patternMax = 0;
  const wordChars = new Set<string>(["\u0000"]);
  const words = [...(list.words ?? [])].sort((a, b) => b.length - a.length);
  if (words.length > 0) {
    // Longest first, so a phrase wins over a word it starts with; a word is whole when no word character touches it.
    alternatives.push(`(?<![${WORD_CHAR}])(?:${words.map(escapeRegExp).join("|")})(?![${WORD_CHAR}])`);
    wordsMax = words[0]!.length;
    // Literal alternatives: the engine compares at most every word at a position.
    costPerChar += words.length;
    for (const word of words) for (const char of list.caseSensitive ? word : `${word.toLowerCase()}${word.toUpperCase()}`) wordChars.add(char);
  }
  for (const pattern of list.patterns ?? []) {
    const verdict = checkDenyPattern(pattern);
    if (!verdict.ok) throw new Error(`deny pattern refused: ${verdict.reason}`);
    alternatives.push(`(?:${pattern})`);
    patternMax = Math.max(patternMax, verdict.maxLength);
    costPerChar += verdict.cost;
  }
  const regex = new RegExp(alternatives.join("|"), flags);
  const maxLength = Math.max(wordsMax, patternMax);
  const table = charTable(new RegExp(`[${[...wordChars].map(escapeRegExp).join("")}]`));
  const fold = (text: string) => (list.caseSensitive ? text : text.toLowerCase());
  const folded = words.map(fold);
  // A word still arriving, or complete but maybe followed by more word characters ("apollo" → "apollonian").
  const couldBeWord = (text: string, index: number) => !wordBefore(text, index) && folded.some((word) => word.startsWith(fold(text.slice(index, index + word.length + 1))));
  const patternHold = patternMax > 0 ? patternMax - 1 : 0;
  // The character table only knows ASCII; words with other letters look at every position of their longest's length.
  const asciiWords = words.every((word) => /^\p{ASCII}*$/u.test(word));
  const wordHeldFrom = (text: string): number => {
    if (words.length === 0) return text.length;
    if (asciiWords) return heldFromRun(text, table, wordsMax + 1, couldBeWord);
    for (let index = Math.max(0, text.length - wordsMax); index < text.length; index++) if (couldBeWord(text, index)) return index;
    return text.length;
  };
  return {
    maxLength,
    costPerChar,
    find: (text) => globalMatches(regex, text),
    // A pattern may match any characters: it holds its longest match less one. Words hold only a word that may still arrive.
    heldFrom: (text) => Math.min(patternMax > 0 ? Math.max(0, text.length - patternHold) : text.length, wordHeldFrom(text)),
  };
}
