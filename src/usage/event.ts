import * as z from "zod";
import type { GatewayConfig } from "../config/schema";
import type { RequestRecord } from "../pipeline/record";
import { accountedUsage } from "./observe";
import { costOf, priceOfTarget } from "./pricing";

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
  /** A stream ended without the provider's final usage: the tokens are an upper estimate (src/usage/observe.ts). */
  usageEstimated: z.boolean(),
  /** USD; null when the model is unpriced (never 0 for "unknown"). On a cache HIT: 0. */
  costUsd: z.number().nonnegative().nullable(),
  cacheStatus: z.enum(["HIT", "MISS", "REFRESH", "BYPASS"]).nullable(),
  /** On a cache HIT: the tokens not asked of the provider and what they would have cost (null if unpriced). */
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
 * The cost of a record at the workspace's prices: the answering target's provider type and model, with the
 * workspace's `pricing` overrides first. A request nobody answered used no tokens and costs 0. This is the usage
 * event's cost; budgets settle apart (src/policy/limits.ts), at the same prices but from the provider-reported
 * usage, without the estimate of accountedUsage.
 */
export function requestCost(config: GatewayConfig | undefined, record: RequestRecord, usage = accountedUsage(record).usage): number | null {
  const answered = record.answeredBy;
  if (!answered) return 0;
  return costOf(usage, priceOfTarget(config, answered.provider, answered.model));
}

export type EventIdentity = { requestId: string; clientRequestId: string | null };

export function usageEventOf(record: RequestRecord, identity: EventIdentity, workspaceId: string, config: GatewayConfig | undefined): UsageEvent {
  const { usage, estimated } = accountedUsage(record);
  const hit = record.cacheStatus === "HIT";
  const fullCost = requestCost(config, record, usage);
  return {
    v: 1,
    requestId: identity.requestId,
    clientRequestId: identity.clientRequestId,
    time: new Date(record.startedAtMs).toISOString(),
    workspaceId,
    keyId: record.keyId ?? null,
    route: record.route ?? null,
    operation: record.operation,
    attempts: record.attempts.map((a) => ({ ...a, latencyMs: Math.max(0, a.latencyMs) })),
    answeredBy: record.answeredBy ?? null,
    usage,
    usageEstimated: estimated,
    costUsd: hit ? 0 : fullCost,
    cacheStatus: record.cacheStatus ?? null,
    savedTokens: hit ? usage.promptTokens + usage.completionTokens : 0,
    savedUsd: hit ? fullCost : null,
    coalesced: record.coalesced,
    stream: record.stream,
    ttfbMs: record.firstByteMs ?? (record.outcome === "success" ? record.totalMs : null),
    totalMs: Math.max(0, record.totalMs),
    overheadMs: Math.max(0, record.overheadMs),
    status: record.status,
    outcome: record.outcome ?? "error",
    errorType: record.errorType ?? null,
    rescued: record.rescued,
    ...(record.bodies ? { bodies: record.bodies } : {}),
  };
}
