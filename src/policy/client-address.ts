/**
 * The client's IP address, as Cloudflare's edge reports it in `cf-connecting-ip` (set by the edge, never passed
 * through from the client). A self-hosted data plane gets whatever its proxy sets there: it must set the header
 * (or strip the client's) for per-address decisions to hold — see docs/tenancy.md.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/** The 8 groups of an IPv6 address (an embedded IPv4 tail becomes the last two), or null if it is not one. */
function ipv6Groups(text: string): number[] | null {
  let address = text.toLowerCase();
  const tail: number[] = [];
  if (address.includes(".")) {
    const lastColon = address.lastIndexOf(":");
    const v4 = address.slice(lastColon + 1);
    if (lastColon < 0 || !IPV4.test(v4)) return null;
    const [a, b, c, d] = v4.split(".").map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    // "::ffff:1.2.3.4" keeps its "::"; "0:0:0:0:0:ffff:1.2.3.4" loses the colon before the IPv4 part.
    address = address.endsWith(`::${v4}`) ? address.slice(0, lastColon + 1) : address.slice(0, lastColon);
  }
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === "") return [];
    const groups = part.split(":");
    return groups.every((g) => HEX_GROUP.test(g)) ? groups.map((g) => parseInt(g, 16)) : null;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
}

/** The address in a canonical form (IPv4 dotted; IPv6 expanded; IPv4-mapped IPv6 as IPv4), or null when absent or malformed. */
export function clientAddress(headers: Headers): string | null {
  const raw = headers.get("cf-connecting-ip")?.trim();
  if (!raw || raw.length > 64) return null;
  if (IPV4.test(raw)) return raw;
  const groups = ipv6Groups(raw);
  if (!groups) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  return groups.map((g) => g.toString(16)).join(":");
}

/**
 * The network a per-address limit applies to: an IPv4 address itself, an IPv6 address's /64 (one subscriber's
 * allocation, whose 2^64 addresses would otherwise each be a fresh start). Absent or malformed: one shared bucket.
 */
export function addressBucket(address: string | null): string {
  if (address === null) return "unknown";
  if (!address.includes(":")) return address;
  return `${address.split(":").slice(0, 4).join(":")}::/64`;
}
