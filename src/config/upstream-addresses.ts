import { ipv4NotPublic, ipv6NotPublic, parseIPv4, parseIPv6 } from "../lib/ip-address";
import { matchesAny, namePatterns, type NamePattern } from "./name-patterns";

/**
 * Where a workspace config may send the gateway's requests. A config written through the admin API reaches only
 * public addresses unless the operator allows the workspace more (ALLOW_PRIVATE_UPSTREAMS: local model servers
 * such as Ollama or vLLM need it); the config file (the `default` workspace's, written by the operator) is not
 * limited. Whatever the address, an upstream URL never carries credentials, a query or a fragment: the gateway
 * builds paths and queries itself.
 *
 * The host is judged as written: an IP literal by its range, a name by its form (`localhost`, single-label names,
 * local suffixes). A public-looking name that resolves to an inside address is for the network to stop: on
 * Cloudflare, Workers cannot reach private networks; a self-hosted data plane needs its own egress rules.
 */

/** Suffixes of names that only resolve inside a network: mDNS, cloud metadata (`metadata.google.internal`), home networks. */
const LOCAL_SUFFIXES = [".localhost", ".local", ".localdomain", ".internal", ".home.arpa", ".lan"];

/** Why `hostname` (as `new URL` gives it) is not a public address, or undefined when it is. */
export function hostNotPublic(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = parseIPv6(host.slice(1, -1));
    return groups ? ipv6NotPublic(groups) : "not a valid IPv6 address";
  }
  const v4 = parseIPv4(host);
  if (v4 !== undefined) return ipv4NotPublic(v4);
  if (host === "localhost" || LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) return "a local name";
  if (!host.includes(".")) return "a local name (a single label resolves through the local search domains)";
  return undefined;
}

/**
 * What is wrong with `url` as a configured upstream address (a `baseURL`, a `tokenURL`), or undefined.
 * `privateAllowed` lifts the public-address rule; the form rules (http or https, no credentials, query or
 * fragment) always hold.
 */
export function upstreamURLProblem(url: string, options: { privateAllowed: boolean }): string | undefined {
  if (url.includes("?") || url.includes("#")) return "must not contain `?` or `#`: the gateway builds paths and queries itself";
  return outboundURLProblem(url, options);
}

/**
 * What is wrong with `url` as the target of an upstream call the gateway is about to make (its query is the
 * gateway's own), or undefined.
 */
export function outboundURLProblem(url: string, options: { privateAllowed: boolean }): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "must be an http or https URL";
  if (parsed.username !== "" || parsed.password !== "") return "must not carry credentials (user:password@)";
  if (options.privateAllowed) return undefined;
  const why = hostNotPublic(parsed.hostname);
  if (why === undefined) return undefined;
  const kind = why.startsWith("a local name") ? why : `not a public address (${why})`;
  return `points at ${parsed.hostname}, ${kind}; this workspace may only reach public addresses (the operator can allow more with ALLOW_PRIVATE_UPSTREAMS)`;
}

/** The operator's ALLOW_PRIVATE_UPSTREAMS, parsed: workspace ids, `prefix*`, or `*` for all. */
let parsedAllowance: { source: string; patterns: NamePattern[] } | undefined;

/** Whether the operator lets this workspace's admin-written config reach private, loopback and link-local addresses. */
export function privateUpstreamsAllowed(settings: { ALLOW_PRIVATE_UPSTREAMS?: string }, workspaceId: string): boolean {
  const source = settings.ALLOW_PRIVATE_UPSTREAMS ?? "";
  if (parsedAllowance === undefined || parsedAllowance.source !== source) parsedAllowance = { source, patterns: namePatterns(source) };
  return matchesAny(parsedAllowance.patterns, workspaceId);
}
