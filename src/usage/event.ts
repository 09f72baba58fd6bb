import * as z from "zod";
import type { GatewayConfig } from "../config/schema";
import { GuardrailCountsSchema } from "../guardrails/tally";
import { batchPriceOfTarget, costOf, trainingPriceOf } from "./pricing";
import type { Usage } from "../schema/internal";

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
  /** ms after the request entered the gateway (absent on events sent before it was recorded). */
  startMs: z.number().nonnegative().optional(),
  errorClass: z.string().optional(),
});

/** The client's W3C trace context (`traceparent`), so exported spans join its trace. */
export const TraceContextSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  parentSpanId: z.string().regex(/^[0-9a-f]{16}$/),
  sampled: z.boolean(),
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
  /** `fine_tuning`: the training of a fine-tuning job (its requestId is `<job id>:training`). */
  operation: z.enum(["chat", "responses", "embeddings", "fine_tuning"]),
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
  /** The request's metadata (header and body) and end user; defaults keep older queued events readable. */
  metadata: z.record(z.string(), z.string()).default({}),
  user: z.string().nullable().default(null),
  trace: TraceContextSchema.nullable().default(null),
  bodies: z.object({ request: z.string(), response: z.string(), truncated: z.boolean() }).optional(),
  /** The batch a line belongs to (its requestId is `<batchId>:<line index>`); null for interactive requests. */
  batchId: z.string().nullable().default(null),
  /** Per guardrail rule that acted: matches flagged and redacted, and whether it blocked (src/guardrails/). */
  guardrails: GuardrailCountsSchema.optional(),
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

/** One line of a provider batch, as its result came back. */
export type BatchLineUsage = {
  batchId: string;
  /** The line's place among the batch's requests: with the batch id, its idempotency key in D1. */
  index: number;
  workspaceId: string;
  keyId: string | null;
  route: string | null;
  operation: UsageEvent["operation"];
  provider: string;
  model: string;
  /** The provider's usage for an answered line; null for a line that failed or never ran. */
  usage: Usage | null;
  status: number;
  errorType: string | null;
  /** When the batch was created (ms since the epoch): lines are counted on their batch's day. */
  time: number;
};

/** What an event that no client waited for (a native batch line, a training run) carries: no cache, no stream, no tags. */
const NOT_SERVED_INTERACTIVELY = {
  cacheStatus: null,
  savedTokens: 0,
  savedUsd: null,
  coalesced: false,
  stream: false,
  ttfbMs: null,
  totalMs: 0,
  overheadMs: 0,
  rescued: false,
  metadata: {},
  user: null,
  trace: null,
} as const satisfies Partial<UsageEvent>;

/** The usage event of one batch line, priced at the provider's batch price (src/usage/pricing.ts). */
export function batchLineUsageEvent(config: GatewayConfig | undefined, line: BatchLineUsage): UsageEvent {
  const usage = line.usage ?? { promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  const answered = line.usage !== null;
  return {
    v: 1,
    requestId: `${line.batchId}:${line.index}`,
    clientRequestId: null,
    time: new Date(line.time).toISOString(),
    workspaceId: line.workspaceId,
    keyId: line.keyId,
    route: line.route,
    operation: line.operation,
    attempts: [{ provider: line.provider, model: line.model, status: line.status, outcome: answered ? "success" : "http_error", latencyMs: 0 }],
    answeredBy: answered ? { provider: line.provider, model: line.model } : null,
    usage,
    usageEstimated: false,
    costUsd: answered ? costOf(usage, batchPriceOfTarget(config, line.provider, line.model)) : 0,
    ...NOT_SERVED_INTERACTIVELY,
    status: line.status,
    outcome: answered ? "success" : "error",
    errorType: line.errorType,
    batchId: line.batchId,
  };
}

/** A fine-tuning job's training, as the provider reported it. */
export type TrainingUsage = { jobId: string; workspaceId: string; keyId: string | null; provider: string; baseModel: string; trainedTokens: number; time: number };

/**
 * The usage event of a fine-tuning job's training: its trained tokens (as prompt tokens) at the base model's
 * training price; cost null when that is unpriced. Keyed `<job id>:training`, so a repeated step counts it once.
 */
export function trainingUsageEvent(config: GatewayConfig | undefined, training: TrainingUsage): UsageEvent {
  const price = trainingPriceOf(config, training.provider, training.baseModel);
  return {
    v: 1,
    requestId: `${training.jobId}:training`,
    clientRequestId: null,
    time: new Date(training.time).toISOString(),
    workspaceId: training.workspaceId,
    keyId: training.keyId,
    route: null,
    operation: "fine_tuning",
    attempts: [{ provider: training.provider, model: training.baseModel, status: 200, outcome: "success", latencyMs: 0 }],
    answeredBy: { provider: training.provider, model: training.baseModel },
    usage: { promptTokens: training.trainedTokens, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    usageEstimated: false,
    costUsd: price === null ? null : (training.trainedTokens * price) / 1_000_000,
    ...NOT_SERVED_INTERACTIVELY,
    status: 200,
    outcome: "success",
    errorType: null,
    batchId: null,
  };
}
