import { charTable, heldFromRun, isDigitAt, regexSpans, wordBefore, type Matcher, type Span } from "./span";

/**
 * Phone numbers in the forms people write them: international (`+` and 8–15 digits, E.164), North American
 * (10 digits as 3-3-4, optionally with a leading 1 and the area code in parentheses) and national numbers with
 * a trunk `0` (10–11 digits in groups of 2–5). Plain digit runs, dates, decimals, card numbers and SSNs do not
 * fit these shapes, so they are not reported as phone numbers.
 */

const CANDIDATE = /(?<![\w+])\+?\(?\d[\d ().-]{5,22}\d(?![\w]|[.-]\d)/g;
const PART = charTable(/[0-9 ().+-]/);
const MAX_LENGTH = 25;
const SEPARATORS = /[ ().-]+/;

const NORTH_AMERICAN = new Set(["3,3,4", "1,3,3,4", "10", "11"]);

export function isPhoneNumber(candidate: string): boolean {
  if (candidate.includes("..") || candidate.includes("--")) return false;
  const groups = candidate.replace(/^\+/, "").split(SEPARATORS).filter((g) => g !== "");
  const digits = groups.join("");
  if (candidate.startsWith("+")) return digits.length >= 8 && digits.length <= 15 && digits[0] !== "0";
  const shape = groups.map((g) => g.length).join(",");
  if (NORTH_AMERICAN.has(shape)) return digits.length === 10 ? digits[0] !== "0" && digits[0] !== "1" : digits[0] === "1" && digits[1] !== "0" && digits[1] !== "1";
  return digits[0] === "0" && digits.length >= 10 && digits.length <= 11 && groups.length >= 2 && groups.every((g) => g.length >= 2 && g.length <= 5);
}

export function findPhoneNumbers(text: string): Span[] {
  return regexSpans(CANDIDATE, text, isPhoneNumber);
}

export const phone: Matcher = {
  maxLength: MAX_LENGTH,
  find: findPhoneNumbers,
  heldFrom: (text) => heldFromRun(text, PART, MAX_LENGTH, (t, i) => (isDigitAt(t, i) || t[i] === "+" || t[i] === "(") && !wordBefore(t, i, "+")),
};
