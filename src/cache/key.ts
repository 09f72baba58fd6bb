import type { Target } from "../config/schema";
import { sha256Hex } from "../lib/crypto";
import type { ChatRequest } from "../schema/internal";

/** Bumped whenever the key's inputs or the entry format change, so old entries are simply never found again. */
export const CACHE_KEY_VERSION = 1;

/** JSON with object keys sorted and `undefined` dropped: equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  const entries = Object.entries(value)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
}

/**
 * The hash identifying "the same request" for the cache and for coalescing. It covers what shapes the answer:
 * the workspace (workspaces never share entries), the target the plan chose first (provider and model), and the
 * normalised request — messages, tools, tool choice, sampling parameters, response format, stop, seed. It leaves
 * out what does not: the route name or model alias the client used, stream vs not (a stored answer serves both),
 * `include_usage`, metadata, and `user` unless the cache is configured to include it. Every other field of the
 * internal request is in the key, so a field added later can only make keys more precise, never merge answers.
 */
export async function cacheKeyFor(workspaceId: string, target: Target, request: ChatRequest, options: { includeUser: boolean }): Promise<string> {
  const { model: _model, stream: _stream, includeUsage: _includeUsage, metadata: _metadata, user, ...shaping } = request;
  const material = {
    v: CACHE_KEY_VERSION,
    workspace: workspaceId,
    target: { provider: target.provider, model: target.model },
    request: shaping,
    ...(options.includeUser && user !== undefined ? { user } : {}),
  };
  return sha256Hex(canonicalJson(material));
}
