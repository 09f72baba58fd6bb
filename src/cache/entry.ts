import * as z from "zod";
import type { ChatResult, Usage } from "../schema/internal";

/** The stored form of a cached answer. Entries come back from KV and the Cache API as foreign data: parsed, never cast. */

const UsageSchema = z.object({
  promptTokens: z.number(),
  completionTokens: z.number(),
  cachedTokens: z.number(),
  cacheWriteTokens: z.number(),
  reasoningTokens: z.number(),
}) satisfies z.ZodType<Usage>;

const FinishReasonSchema = z.enum(["stop", "length", "tool_calls", "content_filter"]);

export const ChatResultSchema = z.object({
  id: z.string(),
  model: z.string(),
  created: z.number(),
  text: z.string(),
  toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })),
  reasoning: z
    .array(z.discriminatedUnion("type", [z.object({ type: z.literal("thinking"), text: z.string(), signature: z.string().optional() }), z.object({ type: z.literal("redacted"), data: z.string() })]))
    .optional(),
  finishReason: FinishReasonSchema,
  stopSequence: z.string().optional(),
  usage: UsageSchema,
}) satisfies z.ZodType<ChatResult>;

export const AnsweringTargetSchema = z.object({ provider: z.string(), model: z.string() });
export type AnsweringTarget = z.infer<typeof AnsweringTargetSchema>;

/** Bumped when the entry's shape changes; entries of another version are misses. */
export const CACHE_ENTRY_VERSION = 1;

/** One cached answer: the completed response in the internal form, rendered per request on a hit. */
export const CacheEntrySchema = z.object({
  v: z.literal(CACHE_ENTRY_VERSION),
  result: ChatResultSchema,
  /** Who answered (provider name and its model): a hit reports it, and usage prices the tokens it saved with it. */
  target: AnsweringTargetSchema,
  /** Epoch milliseconds. */
  storedAt: z.number(),
  /** Epoch milliseconds after which the entry is a miss, whatever the store still holds. */
  expiresAt: z.number(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

export function newCacheEntry(result: ChatResult, target: AnsweringTarget, ttlSeconds: number, now = Date.now()): CacheEntry {
  return { v: CACHE_ENTRY_VERSION, result, target, storedAt: now, expiresAt: now + ttlSeconds * 1_000 };
}

/** The entry in `text`, when it is one and still fresh at `now`; anything else (corrupt, old version, expired) is undefined. */
export function readCacheEntry(text: string, now: number): CacheEntry | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = CacheEntrySchema.safeParse(json);
  if (!parsed.success || parsed.data.expiresAt <= now) return undefined;
  return parsed.data;
}
