import type { Target } from "../config/schema";
import { sha256Hex } from "../lib/crypto";
import type { ChatRequest } from "../schema/internal";

/** Bumped whenever the key's inputs or the entry format change, so old entries are simply never found again. */
export const CACHE_KEY_VERSION = 1;

/** Text to emit as is, told apart from the JSON values still to serialise on the same stack. */
class Literal {
  constructor(readonly text: string) {}
}
const COMMA = new Literal(",");
const CLOSE_ARRAY = new Literal("]");
const CLOSE_OBJECT = new Literal("}");

/**
 * JSON with object keys sorted and `undefined` dropped: equal values always give equal text. Iterative, with its
 * own stack: a client's JSON may be nested thousands deep, which a recursive walk would not survive.
 */
export function canonicalJson(root: unknown): string {
  let out = "";
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value instanceof Literal) {
      out += value.text;
    } else if (value === null || typeof value !== "object") {
      out += JSON.stringify(value) ?? "null";
    } else if (Array.isArray(value)) {
      out += "[";
      stack.push(CLOSE_ARRAY);
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push(value[i] === undefined ? null : value[i]);
        if (i > 0) stack.push(COMMA);
      }
    } else {
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out += "{";
      stack.push(CLOSE_OBJECT);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        stack.push(item, new Literal(`${JSON.stringify(key)}:`));
        if (i > 0) stack.push(COMMA);
      }
    }
  }
  return out;
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
