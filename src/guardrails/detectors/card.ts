import { luhnValid } from "./luhn";
import { charTable, digitsOf, heldFromRun, isDigitAt, regexSpans, wordBefore, type Matcher, type Span } from "./span";

/**
 * Payment card numbers: 13 to 19 digits, optionally grouped by spaces or hyphens, starting with a digit card
 * networks issue under (2–6: Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard, Discover/UnionPay), and
 * passing the Luhn check. A longer digit run, or one glued to letters, is not a card number.
 */

const CANDIDATE = /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w]|-\d)/g;
const PART = charTable(/[0-9 -]/);
/** 19 digits and a separator between each group of four. */
const MAX_LENGTH = 19 + 5;

export function isCardNumber(candidate: string): boolean {
  const digits = digitsOf(candidate);
  if (digits.length < 13 || digits.length > 19) return false;
  const first = digits.charCodeAt(0) - 48;
  if (first < 2 || first > 6) return false;
  return luhnValid(digits);
}

export function findCardNumbers(text: string): Span[] {
  return regexSpans(CANDIDATE, text, isCardNumber);
}

export const card: Matcher = {
  maxLength: MAX_LENGTH,
  find: findCardNumbers,
  heldFrom: (text) => heldFromRun(text, PART, MAX_LENGTH, (t, i) => isDigitAt(t, i) && !wordBefore(t, i, "-")),
};
