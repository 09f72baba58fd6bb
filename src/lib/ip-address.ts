/**
 * Whether an IP address literal is globally routable. Hosts arrive here as the WHATWG URL parser leaves them:
 * IPv4 already in dotted-decimal (it rewrites `2130706433`, `0x7f.1` and `0177.0.0.1` to `127.0.0.1`), IPv6
 * in brackets and compressed. Addresses that embed an IPv4 address (mapped, NAT64, 6to4) are judged by it.
 */

/** `[from, prefix length, why]`: IPv4 ranges that are not public (RFC 6890 and its updates). */
const IPV4_NOT_PUBLIC: readonly [string, number, string][] = [
  ["0.0.0.0", 8, "this network"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared address space (CGNAT)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "6to4 relay anycast"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

const IPV4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The 32-bit value of a dotted-decimal IPv4 address, or undefined. */
export function parseIPv4(host: string): number | undefined {
  const match = IPV4_PATTERN.exec(host);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

const IPV4_RANGES = IPV4_NOT_PUBLIC.map(([from, bits, why]) => ({ base: parseIPv4(from)!, size: 2 ** (32 - bits), why }));

/** Why an IPv4 address is not public, or undefined when it is. */
export function ipv4NotPublic(address: number): string | undefined {
  return IPV4_RANGES.find((range) => address >= range.base && address < range.base + range.size)?.why;
}

/** The eight 16-bit groups of an IPv6 address (without brackets), or undefined. */
export function parseIPv6(text: string): number[] | undefined {
  let head = text;
  const tail: number[] = [];
  // A trailing dotted IPv4 part stands for the last two groups.
  const dotted = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const v4 = parseIPv4(dotted[2]!);
    if (v4 === undefined) return undefined;
    head = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1);
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
  }
  const parts = head.split("::");
  if (parts.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups = part.split(":");
    return groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g)) ? groups.map((g) => parseInt(g, 16)) : undefined;
  };
  const left = groupsOf(parts[0]!);
  const right = parts.length === 2 ? groupsOf(parts[1]!) : [];
  if (!left || !right) return undefined;
  const known = left.length + right.length + tail.length;
  if (parts.length === 1) return known === 8 ? [...left, ...tail] : undefined;
  if (known > 7) return undefined;
  return [...left, ...Array<number>(8 - known).fill(0), ...right, ...tail];
}

const v4Of = (high: number, low: number) => high * 65536 + low;

/** Why an IPv6 address is not public, or undefined when it is. */
export function ipv6NotPublic(groups: readonly number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  const zeroUpTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroUpTo(8)) return "unspecified";
  if (zeroUpTo(7) && g7 === 1) return "loopback";
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible): the IPv4 address decides.
  if (zeroUpTo(5) && (g5 === 0xffff || g5 === 0)) return ipv4NotPublic(v4Of(g6, g7)) ?? (g5 === 0 ? "IPv4-compatible" : undefined);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return ipv4NotPublic(v4Of(g6, g7));
  if (g0 === 0x2002) return ipv4NotPublic(v4Of(g1, g2));
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return "discard-only";
  if (g0 === 0x2001 && g1 === 0x0db8) return "documentation";
  if ((g0 & 0xfe00) === 0xfc00) return "unique local";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xffc0) === 0xfec0) return "site-local";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  return undefined;
}
