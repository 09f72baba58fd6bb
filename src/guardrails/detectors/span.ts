/**
 * What every detector and deny list returns: the matches in a text as half-open ranges of UTF-16 code units,
 * in order and not overlapping. Detectors are pure functions of the text.
 */
export type Span = { start: number; end: number };

/** A matcher of one kind of sensitive text: how to find it, and what a stream must hold back for it. */
export type Matcher = {
  /** The longest match it can return, in UTF-16 code units. */
  readonly maxLength: number;
  /** Every match in `text`, in order, not overlapping. */
  find(text: string): Span[];
  /**
   * For streams: the index from which a match might still be growing if more text were appended to `text`
   * (`text.length` when none can). Text before it is final for this matcher.
   */
  heldFrom(text: string): number;
};

/** A lookup table of the characters a match can contain (ASCII; anything else ends a match). */
export function charTable(pattern: RegExp): Uint8Array {
  const table = new Uint8Array(128);
  for (let code = 0; code < 128; code++) if (pattern.test(String.fromCharCode(code))) table[code] = 1;
  return table;
}

/**
 * The usual `heldFrom`: the trailing run of characters a match can contain, no longer than the longest match
 * less one (a run longer than that cannot still be the start of a match that reaches the end).
 */
export function trailingRun(text: string, table: Uint8Array, maxLength: number): number {
  const floor = Math.max(0, text.length - (maxLength - 1));
  let index = text.length;
  while (index > floor) {
    const code = text.charCodeAt(index - 1);
    if (code >= 128 || table[code] !== 1) break;
    index--;
  }
  return index;
}

/** All matches of a global regex, each accepted by `valid` (a checksum, a range) or skipped. */
export function regexSpans(regex: RegExp, text: string, valid?: (match: string) => boolean): Span[] {
  const spans: Span[] = [];
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (!valid || valid(match[0])) spans.push({ start: match.index, end: match.index + match[0].length });
  }
  return spans;
}

/** The digits of a string, separators dropped. */
export function digitsOf(text: string): string {
  let digits = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits += text[i];
  }
  return digits;
}

const WORD = charTable(/\w/);
/** Whether the character before `index` is a word character (or one of `also`). */
export function wordBefore(text: string, index: number, also = ""): boolean {
  if (index === 0) return false;
  const code = text.charCodeAt(index - 1);
  return (code < 128 && WORD[code] === 1) || also.includes(text[index - 1]!);
}

/**
 * A precise `heldFrom`: the earliest position in the trailing run where a match could start (`canStart`), so
 * a stream holds back only text that may still become a match — not every trailing word.
 */
export function heldFromRun(text: string, table: Uint8Array, maxLength: number, canStart: (text: string, index: number) => boolean): number {
  for (let index = trailingRun(text, table, maxLength); index < text.length; index++) if (canStart(text, index)) return index;
  return text.length;
}

export const isDigitAt = (text: string, index: number) => {
  const code = text.charCodeAt(index);
  return code >= 48 && code <= 57;
};
