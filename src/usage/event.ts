import * as z from "zod";

/**
 * One usage event per /v1 request: the Queue message the gateway sends after the response and the consumer
 * writes to D1. It never carries a prompt, a completion or a secret — except `bodies`, present only when the
 * workspace turned on `logging.bodies`.
 */
export const AttemptSchema = z.object({
  provider: z.string(),
  model: z.string(),
  status: z.number().int().nullable(),
  outcome: z.enum(["success", "http_error", "timeout", "network", "stream_error", "skipped"]),
  latencyMs: z.number().nonnegative(),
  errorClass: z.string().optional(),
});

export const UsageTokensSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
  reasoningTokens: z.number().int().nonnegative(),
});

export const UsageEventSchema = z.object({
  v: z.literal(1),
  /** Unique per request (the gateway's own id): the idempotency key in D1. */
  requestId: z.string().min(1),
  /** The `x-request-id` the client sent, when it sent one (clients may reuse ids, so it is not the key). */
  clientRequestId: z.string().nullable(),
  time: z.iso.datetime(),
  workspaceId: z.string().min(1),
  keyId: z.string().nullable(),
  route: z.string().nullable(),
  operation: z.enum(["chat", "embeddings"]),
  attempts: z.array(AttemptSchema),
  answeredBy: z.object({ provider: z.string(), model: z.string() }).nullable(),
  usage: UsageTokensSchema,
  /** The provider reported no final usage (a broken or abandoned stream, Gemini embeddings): the tokens are an upper estimate. */
  usageEstimated: z.boolean(),
  /** USD the provider billed for this request; null when the model is unpriced (never 0 for "unknown"). Cache hits and coalesced followers: 0. */
  costUsd: z.number().nonnegative().nullable(),
  cacheStatus: z.enum(["HIT", "MISS", "REFRESH", "BYPASS"]).nullable(),
  /** Cache hits and coalesced followers: the tokens not asked of the provider and what they would have cost (null if unpriced). */
  savedTokens: z.number().int().nonnegative(),
  savedUsd: z.number().nonnegative().nullable(),
  coalesced: z.boolean(),
  stream: z.boolean(),
  ttfbMs: z.number().nonnegative().nullable(),
  totalMs: z.number().nonnegative(),
  overheadMs: z.number().nonnegative(),
  status: z.number().int(),
  outcome: z.enum(["success", "error", "aborted"]),
  errorType: z.string().nullable(),
  rescued: z.boolean(),
  bodies: z.object({ request: z.string(), response: z.string(), truncated: z.boolean() }).optional(),
});
export type UsageEvent = z.infer<typeof UsageEventSchema>;

/**
 * A `switchyard-usage` Queue message: the events one isolate flushed together (one message instead of one per
 * event: the Queue's per-message cost, not the events, was the pipeline's), or a single event — the format of
 * earlier versions, still accepted.
 */
export const UsageBatchSchema = z.object({ v: z.literal(1), events: z.array(UsageEventSchema).min(1).max(1_000) });
export type UsageBatch = z.infer<typeof UsageBatchSchema>;
export const UsageMessageSchema = z.union([UsageBatchSchema, UsageEventSchema]);

/** The events a message carries. */
export const eventsOf = (message: z.infer<typeof UsageMessageSchema>): UsageEvent[] => ("events" in message ? message.events : [message]);
