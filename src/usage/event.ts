import * as z from "zod";
import type { GatewayConfig } from "../config/schema";
import { GuardrailCountsSchema } from "../guardrails/tally";
import type { RequestRecord } from "../pipeline/record";
import { accountedUsage } from "./observe";
import { batchPriceOfTarget, costOf, priceOfTarget } from "./pricing";
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
  /** The batch a line belongs to (its requestId is `<batchId>:<line index>`); null for interactive requests. */
  batchId: z.string().nullable().default(null),
  /** Per guardrail rule that acted: matches flagged and redacted, and whether it blocked (src/guardrails/). */
  guardrails: GuardrailCountsSchema.optional(),
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

/** The event's keys: its request id, the client's, and for a line of a gateway-run batch its batch. */
export type EventIdentity = { requestId: string; clientRequestId: string | null; batchId?: string };

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
    ...(record.guardrails && !record.guardrails.empty ? { guardrails: record.guardrails.toJSON() } : {}),
    batchId: identity.batchId ?? null,
  };
}

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
    cacheStatus: null,
    savedTokens: 0,
    savedUsd: null,
    coalesced: false,
    stream: false,
    ttfbMs: null,
    totalMs: 0,
    overheadMs: 0,
    status: line.status,
    outcome: answered ? "success" : "error",
    errorType: line.errorType,
    rescued: false,
    batchId: line.batchId,
  };
}
