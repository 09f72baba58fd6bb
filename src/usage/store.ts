import type { UsageEvent } from "./event";

/**
 * Writing usage events to D1 (schema: migrations/, docs/storage.md). Every insert is keyed by the request id (a
 * guardrail row by request id and rule) and ignores a conflict, so a redelivered event adds nothing.
 *
 * A batch is written as ONE statement per table whose single parameter is the batch as JSON, unpacked by SQLite's
 * `json_each`: a statement per event (and D1's 100-bound-parameters limit, which allows three events per
 * multi-row INSERT) made the writes, not the events, the consumer's cost.
 */

const EVENT_COLUMNS = [
  "request_id", "client_request_id", "ts", "day", "workspace_id", "key_id", "route", "operation", "provider", "model", "attempts", "attempt_count",
  "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "usage_estimated",
  "cost_usd", "cache_status", "saved_tokens", "saved_usd", "coalesced", "stream", "ttfb_ms", "total_ms", "overhead_ms",
  "status", "outcome", "error_type", "rescued", "delivery_attempts", "batch_id",
] as const;

const BODY_COLUMNS = ["request_id", "workspace_id", "request", "response", "truncated"] as const;
const GUARDRAIL_COLUMNS = ["request_id", "rule", "workspace_id", "key_id", "ts", "flagged", "redacted", "blocked"] as const;

/** `INSERT … SELECT` over a JSON array of rows (each row an array of the columns' values, in order). */
const insertFromJson = (table: string, columns: readonly string[], conflict: string) =>
  `INSERT INTO ${table} (${columns.join(", ")}) SELECT ${columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ")} FROM json_each(?1) WHERE true ON CONFLICT (${conflict}) DO NOTHING`;

const INSERT_EVENTS = insertFromJson("usage_events", EVENT_COLUMNS, "request_id");
const INSERT_BODIES = insertFromJson("usage_bodies", BODY_COLUMNS, "request_id");
const INSERT_GUARDRAILS = insertFromJson("usage_guardrails", GUARDRAIL_COLUMNS, "request_id, rule");

/** D1 refuses a statement parameter over 1 MB; batches are split well below that. */
const MAX_JSON_CHARS_PER_STATEMENT = 500_000;

const flag = (value: boolean) => (value ? 1 : 0);

function eventRow(event: UsageEvent, deliveryAttempts: number): unknown[] {
  return [
    event.requestId, event.clientRequestId, Date.parse(event.time), event.time.slice(0, 10), event.workspaceId, event.keyId, event.route, event.operation,
    event.answeredBy?.provider ?? null, event.answeredBy?.model ?? null, JSON.stringify(event.attempts), event.attempts.length,
    event.usage.promptTokens, event.usage.completionTokens, event.usage.cachedTokens, event.usage.cacheWriteTokens, event.usage.reasoningTokens,
    flag(event.usageEstimated), event.costUsd, event.cacheStatus, event.savedTokens, event.savedUsd, flag(event.coalesced), flag(event.stream),
    event.ttfbMs, event.totalMs, event.overheadMs, event.status, event.outcome, event.errorType, flag(event.rescued), deliveryAttempts, event.batchId ?? null,
  ];
}

/** A row per guardrail rule that acted on the request. */
const guardrailRows = (event: UsageEvent): unknown[][] =>
  Object.entries(event.guardrails ?? {}).map(([rule, counts]) => [event.requestId, rule, event.workspaceId, event.keyId, Date.parse(event.time), counts.flagged, counts.redacted, counts.blocked]);

/** Statements inserting `rows` into one table, each parameter within D1's size limit. */
function insertStatements(db: D1Database, sql: string, rows: unknown[][]): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  let chunk: string[] = [];
  let chars = 0;
  const flush = () => {
    if (chunk.length > 0) statements.push(db.prepare(sql).bind(`[${chunk.join(",")}]`));
    chunk = [];
    chars = 0;
  };
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (chars + json.length > MAX_JSON_CHARS_PER_STATEMENT) flush();
    chunk.push(json);
    chars += json.length;
  }
  flush();
  return statements;
}

/** Writes events in one D1 batch (one transaction: all or nothing): their rows, logged bodies and guardrail rows. */
export async function writeUsageEvents(db: D1Database, events: readonly { event: UsageEvent; deliveryAttempts: number }[]): Promise<void> {
  if (events.length === 0) return;
  const bodies = events.flatMap(({ event }) => (event.bodies ? [[event.requestId, event.workspaceId, event.bodies.request, event.bodies.response, flag(event.bodies.truncated)]] : []));
  await db.batch([
    ...insertStatements(db, INSERT_EVENTS, events.map(({ event, deliveryAttempts }) => eventRow(event, deliveryAttempts))),
    ...insertStatements(db, INSERT_BODIES, bodies),
    ...insertStatements(db, INSERT_GUARDRAILS, events.flatMap(({ event }) => guardrailRows(event))),
  ]);
}
