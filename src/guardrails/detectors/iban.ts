import { charTable, heldFromRun, wordBefore, type Matcher, type Span } from "./span";

/**
 * International Bank Account Numbers: a country code, two check digits and the national account number,
 * written in one piece or in groups of four, with the length the country's registry entry gives and the
 * ISO 7064 mod-97 check (the remainder is 1).
 */

/** IBAN lengths per country (SWIFT IBAN registry). */
const LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27,
  GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28,
  PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28,
  TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

const START = /(?<![\w])[A-Za-z]{2}\d{2}(?= ?[A-Za-z0-9])/g;
const PART = charTable(/[A-Za-z0-9 ]/);
/** What the start of an IBAN still arriving looks like. */
const IBAN_PREFIX = /^(?:[A-Za-z]{1,2}|[A-Za-z]{2}\d{1,2}|[A-Za-z]{2}\d{2}[A-Za-z0-9 ]*)$/;
/** 34 characters in groups of four: 8 separating spaces. */
const MAX_LENGTH = 34 + 8;

/** The mod-97 remainder of the rearranged IBAN, computed piecewise so no big integers are needed. */
function mod97(rearranged: string): number {
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const code = rearranged.charCodeAt(i);
    // Letters count as two digits: A = 10 … Z = 35.
    if (code >= 65) remainder = (remainder * 100 + (code - 55)) % 97;
    else remainder = (remainder * 10 + (code - 48)) % 97;
  }
  return remainder;
}

export function isIban(candidate: string): boolean {
  const compact = candidate.replaceAll(" ", "").toUpperCase();
  if (LENGTHS[compact.slice(0, 2)] !== compact.length || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(compact)) return false;
  return mod97(compact.slice(4) + compact.slice(0, 4)) === 1;
}

const isAlphanumeric = (code: number) => (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/**
 * The end of the IBAN starting at `start`: as many characters as its country's IBAN has, single spaces
 * between groups skipped, ending at a word boundary; -1 when the text does not have them.
 */
function ibanEnd(text: string, start: number, length: number): number {
  let index = start;
  let counted = 0;
  while (counted < length && index < text.length) {
    const code = text.charCodeAt(index);
    if (isAlphanumeric(code)) counted++;
    else if (code !== 32 || counted < 4 || counted % 4 !== 0 || !isAlphanumeric(text.charCodeAt(index + 1))) return -1;
    index++;
  }
  if (counted < length) return -1;
  const next = text.charCodeAt(index);
  return Number.isNaN(next) || !(isAlphanumeric(next) || next === 95) ? index : -1;
}

export function findIbans(text: string): Span[] {
  const spans: Span[] = [];
  START.lastIndex = 0;
  for (let match = START.exec(text); match !== null; match = START.exec(text)) {
    const length = LENGTHS[match[0].slice(0, 2).toUpperCase()];
    if (length === undefined) continue;
    const end = ibanEnd(text, match.index, length);
    if (end !== -1 && isIban(text.slice(match.index, end))) {
      spans.push({ start: match.index, end });
      START.lastIndex = end;
    }
  }
  return spans;
}

export const iban: Matcher = {
  maxLength: MAX_LENGTH,
  find: findIbans,
  heldFrom: (text) => heldFromRun(text, PART, MAX_LENGTH, (t, i) => !wordBefore(t, i) && IBAN_PREFIX.test(t.slice(i))),
};
