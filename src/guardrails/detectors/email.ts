import { charTable, trailingRun, type Matcher, type Span } from "./span";

/**
 * Email addresses: found from each `@` outwards (no regex over the whole text), so text without an `@` costs
 * one `indexOf`. The local part is the dot-atom of RFC 5322 without quoted strings; the domain has at least two
 * labels and an alphabetic top-level label of two or more letters.
 */

const LOCAL_MAX = 64;
const DOMAIN_MAX = 253;
const LOCAL = charTable(/[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]/);
const DOMAIN = charTable(/[A-Za-z0-9.-]/);
const PART = charTable(/[A-Za-z0-9.!#$%&'*+/=?^_`{|}~@-]/);

const inTable = (table: Uint8Array, code: number) => code < 128 && table[code] === 1;
const isLetter = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/** The end of a valid domain starting at `from`, or -1. Trailing dots and hyphens are not part of it. */
function domainEnd(text: string, from: number): number {
  let end = from;
  const limit = Math.min(text.length, from + DOMAIN_MAX);
  while (end < limit && inTable(DOMAIN, text.charCodeAt(end))) end++;
  // A sentence may end right after the address: "write to a@b.com."
  while (end > from && (text[end - 1] === "." || text[end - 1] === "-")) end--;
  const domain = text.slice(from, end);
  const labels = domain.split(".");
  if (labels.length < 2) return -1;
  for (const label of labels) if (label === "" || label.length > 63 || label.startsWith("-") || label.endsWith("-")) return -1;
  const top = labels[labels.length - 1]!;
  if (top.length < 2) return -1;
  for (let i = 0; i < top.length; i++) if (!isLetter(top.charCodeAt(i))) return -1;
  return end;
}

export function findEmails(text: string): Span[] {
  const spans: Span[] = [];
  let at = text.indexOf("@");
  let searchFrom = 0;
  while (at !== -1) {
    let start = at;
    const floor = Math.max(searchFrom, at - LOCAL_MAX);
    while (start > floor && inTable(LOCAL, text.charCodeAt(start - 1))) start--;
    // The dot-atom never starts with a dot.
    while (start < at && text[start] === ".") start++;
    const end = start < at && text[at - 1] !== "." ? domainEnd(text, at + 1) : -1;
    if (end !== -1) {
      spans.push({ start, end });
      searchFrom = end;
      at = text.indexOf("@", end);
    } else {
      at = text.indexOf("@", at + 1);
    }
  }
  return spans;
}

export const email: Matcher = {
  maxLength: LOCAL_MAX + 1 + DOMAIN_MAX,
  find: findEmails,
  heldFrom: (text) => trailingRun(text, PART, LOCAL_MAX + 1 + DOMAIN_MAX),
};
