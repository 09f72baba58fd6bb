import type { UsageEvent } from "./event";
import { withRollups } from "./rollups";

/**
 * Writing usage events to D1 (schema: migrations/, docs/storage.md). Every insert is keyed by the request id and
 * ignores a conflict, so a redelivered event adds nothing. The hourly and daily rollups are updated in the same
 * transaction from exactly the rows it inserted (./rollups.ts).
 */

const EVENT_COLUMNS = [
  "request_id", "client_request_id", "ts", "day", "workspace_id", "key_id", "route", "operation", "provider", "model", "attempts", "attempt_count",
  "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "usage_estimated",
  "cost_usd", "cache_status", "saved_tokens", "saved_usd", "coalesced", "stream", "ttfb_ms", "total_ms", "overhead_ms",
  "status", "outcome", "error_type", "rescued", "delivery_attempts", "batch_id", "metadata", "end_user", "trace_id", "parent_span_id", "rollup_dims",
] as const;

const INSERT_EVENT = `INSERT INTO usage_events (${EVENT_COLUMNS.join(", ")}) VALUES (${EVENT_COLUMNS.map(() => "?").join(", ")}) ON CONFLICT (request_id) DO NOTHING`;
const INSERT_BODIES = "INSERT INTO usage_bodies (request_id, workspace_id, request, response, truncated) VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING";
const INSERT_GUARDRAIL =
  "INSERT INTO usage_guardrails (request_id, rule, workspace_id, key_id, ts, flagged, redacted, blocked) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id, rule) DO NOTHING";

const flag = (value: boolean) => (value ? 1 : 0);

/** One event as the consumer stores it: the Queue delivery that wrote it, and its rollup dimensions. */
export type StoredEvent = { event: UsageEvent; deliveryAttempts: number; rollupDims?: string };

export const NO_ROLLUP_DIMS = "{}";

/**
 * The rollup dimension of an event: the values of the workspace's declared metadata keys (config
 * `usage.metadataKeys`) it carries, as canonical JSON (keys sorted), `{}` when it carries none.
 */
export function rollupDimsOf(metadata: Record<string, string>, declaredKeys: readonly string[]): string {
  const picked: Record<string, string> = {};
  for (const key of [...declaredKeys].sort()) if (metadata[key] !== undefined) picked[key] = metadata[key];
  return JSON.stringify(picked);
}

/** The statements that store one event (its row, its bodies when logged, a row per guardrail rule that acted). */
export function insertStatements(db: D1Database, { event, deliveryAttempts, rollupDims = NO_ROLLUP_DIMS }: StoredEvent): D1PreparedStatement[] {
  const ts = Date.parse(event.time);
  const values = [
    event.requestId, event.clientRequestId, ts, event.time.slice(0, 10), event.workspaceId, event.keyId, event.route, event.operation,
    event.answeredBy?.provider ?? null, event.answeredBy?.model ?? null, JSON.stringify(event.attempts), event.attempts.length,
    event.usage.promptTokens, event.usage.completionTokens, event.usage.cachedTokens, event.usage.cacheWriteTokens, event.usage.reasoningTokens,
    flag(event.usageEstimated), event.costUsd, event.cacheStatus, event.savedTokens, event.savedUsd, flag(event.coalesced), flag(event.stream),
    event.ttfbMs, event.totalMs, event.overheadMs, event.status, event.outcome, event.errorType, flag(event.rescued), deliveryAttempts, event.batchId,
    Object.keys(event.metadata).length > 0 ? JSON.stringify(event.metadata) : null, event.user, event.trace?.traceId ?? null, event.trace?.parentSpanId ?? null, rollupDims,
  ];
  const statements = [db.prepare(INSERT_EVENT).bind(...values)];
  if (event.bodies) {
    statements.push(db.prepare(INSERT_BODIES).bind(event.requestId, event.workspaceId, event.bodies.request, event.bodies.response, flag(event.bodies.truncated)));
  }
  for (const [rule, counts] of Object.entries(event.guardrails ?? {})) {
    statements.push(db.prepare(INSERT_GUARDRAIL).bind(event.requestId, rule, event.workspaceId, event.keyId, ts, counts.flagged, counts.redacted, counts.blocked));
  }
  return statements;
}

/** Writes events in one D1 batch (one transaction: all or nothing, rollups included). */
export async function writeUsageEvents(db: D1Database, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.batch(withRollups(db, events.flatMap((stored) => insertStatements(db, stored))));
}
