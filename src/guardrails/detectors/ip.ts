import { charTable, heldFromRun, regexSpans, wordBefore, type Matcher, type Span } from "./span";

/**
 * IP addresses: dotted-quad IPv4 (each part 0–255, no leading zeros) and IPv6 in its full, compressed (`::`)
 * and IPv4-suffixed forms. Clock times and version strings with fewer than four parts are not addresses.
 */

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, "g");
const IPV6_CANDIDATE = /(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){1,7}(?:\.\d{1,3}){0,3}(?![\w:]|\.\d)/g;
const IPV4_WHOLE = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const PART = charTable(/[0-9A-Fa-f.:]/);
const MAX_LENGTH = 45;
const HEX_OR_COLON = /[0-9A-Fa-f:]/;

export function isIpv6(candidate: string): boolean {
  let text = candidate;
  let groupsNeeded = 8;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    if (!IPV4_WHOLE.test(text.slice(lastColon + 1))) return false;
    text = `${text.slice(0, lastColon + 1)}0`;
    groupsNeeded = 7;
  }
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groupsOf = (half: string) => (half === "" ? [] : half.split(":"));
  const groups = halves.flatMap(groupsOf);
  if (!groups.every((g) => HEX_GROUP.test(g))) return false;
  // An address needs hex digits somewhere beyond a lone "::".
  if (groups.length === 0) return false;
  return halves.length === 2 ? groups.length < groupsNeeded : groups.length === groupsNeeded;
}

export function findIpAddresses(text: string): Span[] {
  const v4 = text.includes(".") ? regexSpans(IPV4, text) : [];
  const v6 = text.includes(":") ? regexSpans(IPV6_CANDIDATE, text, isIpv6) : [];
  if (v6.length === 0) return v4;
  if (v4.length === 0) return v6;
  // An IPv4-suffixed IPv6 address contains an IPv4 match: keep the longer.
  const merged = [...v6];
  for (const span of v4) if (!v6.some((outer) => outer.start <= span.start && span.end <= outer.end)) merged.push(span);
  return merged.sort((a, b) => a.start - b.start);
}

export const ip: Matcher = {
  maxLength: MAX_LENGTH,
  find: findIpAddresses,
  heldFrom: (text) => heldFromRun(text, PART, MAX_LENGTH, (t, i) => HEX_OR_COLON.test(t[i]!) && !wordBefore(t, i, ":.")),
};
