import type { UsageEvent } from "./event";

/**
 * Writing usage events to D1 (schema: migrations/, docs/storage.md). Every insert is keyed by the request id and
 * ignores a conflict, so a redelivered event adds nothing.
 */

const EVENT_COLUMNS = [
  "request_id", "client_request_id", "ts", "day", "workspace_id", "key_id", "route", "operation", "provider", "model", "attempts", "attempt_count",
  "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "usage_estimated",
  "cost_usd", "cache_status", "saved_tokens", "saved_usd", "coalesced", "stream", "ttfb_ms", "total_ms", "overhead_ms",
  "status", "outcome", "error_type", "rescued", "delivery_attempts", "batch_id",
] as const;

const INSERT_EVENT = `INSERT INTO usage_events (${EVENT_COLUMNS.join(", ")}) VALUES (${EVENT_COLUMNS.map(() => "?").join(", ")}) ON CONFLICT (request_id) DO NOTHING`;
const INSERT_BODIES = "INSERT INTO usage_bodies (request_id, workspace_id, request, response, truncated) VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING";
const INSERT_GUARDRAIL =
  "INSERT INTO usage_guardrails (request_id, rule, workspace_id, key_id, ts, flagged, redacted, blocked) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id, rule) DO NOTHING";

const flag = (value: boolean) => (value ? 1 : 0);

/** The statements that store one event (its row, its bodies when logged, a row per guardrail rule that acted). */
export function insertStatements(db: D1Database, event: UsageEvent, deliveryAttempts: number): D1PreparedStatement[] {
  const ts = Date.parse(event.time);
  const values = [
    event.requestId, event.clientRequestId, ts, event.time.slice(0, 10), event.workspaceId, event.keyId, event.route, event.operation,
    event.answeredBy?.provider ?? null, event.answeredBy?.model ?? null, JSON.stringify(event.attempts), event.attempts.length,
    event.usage.promptTokens, event.usage.completionTokens, event.usage.cachedTokens, event.usage.cacheWriteTokens, event.usage.reasoningTokens,
    flag(event.usageEstimated), event.costUsd, event.cacheStatus, event.savedTokens, event.savedUsd, flag(event.coalesced), flag(event.stream),
    event.ttfbMs, event.totalMs, event.overheadMs, event.status, event.outcome, event.errorType, flag(event.rescued), deliveryAttempts, event.batchId,
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

/** Writes events in one D1 batch (one transaction: all or nothing). */
export async function writeUsageEvents(db: D1Database, events: readonly { event: UsageEvent; deliveryAttempts: number }[]): Promise<void> {
  if (events.length === 0) return;
  await db.batch(events.flatMap(({ event, deliveryAttempts }) => insertStatements(db, event, deliveryAttempts)));
}
