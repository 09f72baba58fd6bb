import type { UsageEvent } from "../usage/event";
import { post } from "./http";
import type { ExportSettings } from "./settings";

/**
 * Raw usage events into ClickHouse over its HTTP interface: one `INSERT INTO <table> FORMAT JSONEachRow` per
 * batch, one JSON object per line, credentials in the X-ClickHouse-User / X-ClickHouse-Key headers. The table is
 * the one in docs/clickhouse.sql (ReplacingMergeTree by request id: a batch the Queue retries after a partial
 * failure collapses to one row per request).
 */

type ClickHouseSettings = NonNullable<ExportSettings["clickhouse"]>;

/** `YYYY-MM-DD hh:mm:ss.sss` in UTC: what a DateTime64(3, 'UTC') column parses in every input format setting. */
const dateTime64 = (iso: string) => iso.replace("T", " ").replace("Z", "");

/** One row of the documented table: the D1 row's columns, metadata as a Map, bodies when logged. */
export function clickhouseRowOf(event: UsageEvent): Record<string, unknown> {
  const flag = (value: boolean) => (value ? 1 : 0);
  return {
    request_id: event.requestId,
    client_request_id: event.clientRequestId,
    ts: dateTime64(event.time),
    workspace_id: event.workspaceId,
    key_id: event.keyId,
    route: event.route,
    operation: event.operation,
    provider: event.answeredBy?.provider ?? null,
    model: event.answeredBy?.model ?? null,
    attempts: JSON.stringify(event.attempts),
    attempt_count: event.attempts.length,
    prompt_tokens: event.usage.promptTokens,
    completion_tokens: event.usage.completionTokens,
    cached_tokens: event.usage.cachedTokens,
    cache_write_tokens: event.usage.cacheWriteTokens,
    reasoning_tokens: event.usage.reasoningTokens,
    usage_estimated: flag(event.usageEstimated),
    cost_usd: event.costUsd,
    cache_status: event.cacheStatus,
    saved_tokens: event.savedTokens,
    saved_usd: event.savedUsd,
    coalesced: flag(event.coalesced),
    stream: flag(event.stream),
    ttfb_ms: event.ttfbMs,
    total_ms: event.totalMs,
    overhead_ms: event.overheadMs,
    status: event.status,
    outcome: event.outcome,
    error_type: event.errorType,
    rescued: flag(event.rescued),
    metadata: event.metadata,
    end_user: event.user,
    trace_id: event.trace?.traceId ?? null,
    parent_span_id: event.trace?.parentSpanId ?? null,
    request_body: event.bodies?.request ?? null,
    response_body: event.bodies?.response ?? null,
    bodies_truncated: flag(event.bodies?.truncated ?? false),
    guardrails: JSON.stringify(event.guardrails ?? {}),
  };
}

export async function insertIntoClickHouse(settings: ClickHouseSettings, events: readonly UsageEvent[], secrets: readonly string[]): Promise<void> {
  if (events.length === 0) return;
  const url = new URL(settings.url);
  url.searchParams.set("query", `INSERT INTO ${settings.table} FORMAT JSONEachRow`);
  const headers: Record<string, string> = { "content-type": "application/x-ndjson", "x-clickhouse-user": settings.user };
  if (settings.password !== undefined) headers["x-clickhouse-key"] = settings.password;
  await post(url.toString(), { headers, body: events.map((e) => JSON.stringify(clickhouseRowOf(e))).join("\n") + "\n" }, secrets);
}
