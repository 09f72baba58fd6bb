import { charTable, heldFromRun, isDigitAt, regexSpans, wordBefore, type Matcher, type Span } from "./span";

/**
 * US Social Security numbers written as AAA-GG-SSSS, with the ranges the SSA never issues excluded: area 000,
 * 666 and 900–999, group 00, serial 0000.
 */

const CANDIDATE = /(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w]|-\d)/g;
const PART = charTable(/[0-9-]/);
const MAX_LENGTH = 11;

export function isSsn(candidate: string): boolean {
  const area = candidate.slice(0, 3);
  if (area === "000" || area === "666" || area[0] === "9") return false;
  return candidate.slice(4, 6) !== "00" && candidate.slice(7) !== "0000";
}

export function findSsns(text: string): Span[] {
  return regexSpans(CANDIDATE, text, isSsn);
}

export const ssn: Matcher = {
  maxLength: MAX_LENGTH,
  find: findSsns,
  heldFrom: (text) => heldFromRun(text, PART, MAX_LENGTH, (t, i) => isDigitAt(t, i) && !wordBefore(t, i, "-")),
};
