import * as z from "zod";
import { AttemptSchema } from "./event";
import { jsonPathOf, statusCondition } from "./report";

/**
 * Request logs: the raw usage events of a workspace, newest first, filtered and paged with a cursor; one
 * request in full with its attempts, timings and — where the workspace turned on body logging — its bodies.
 * Raw events are kept for the deployment's retention (USAGE_RETENTION_DAYS); older requests are not listed.
 */

export const OUTCOMES = ["success", "error", "aborted"] as const;
export const CACHE_STATUSES = ["HIT", "MISS", "REFRESH", "BYPASS", "NONE"] as const;
export const MAX_LOG_PAGE = 200;

export type LogFilters = {
  fromMs?: number | undefined;
  toMs?: number | undefined;
  keyId?: string | undefined;
  route?: string | undefined;
  provider?: string | undefined;
  model?: string | undefined;
  status?: string | undefined;
  outcome?: (typeof OUTCOMES)[number] | undefined;
  cacheStatus?: (typeof CACHE_STATUSES)[number] | undefined;
  user?: string | undefined;
  minLatencyMs?: number | undefined;
  metadata: Record<string, string>;
};

export const LogEntrySchema = z.object({
  requestId: z.string(),
  clientRequestId: z.string().nullable(),
  time: z.string(),
  keyId: z.string().nullable(),
  route: z.string().nullable(),
  operation: z.string(),
  provider: z.string().nullable().describe("The provider (config name) that answered; null if none did."),
  model: z.string().nullable(),
  status: z.number(),
  outcome: z.string(),
  errorType: z.string().nullable(),
  cacheStatus: z.string().nullable(),
  stream: z.boolean(),
  coalesced: z.boolean(),
  rescued: z.boolean(),
  attemptCount: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
  costUsd: z.number().nullable(),
  ttfbMs: z.number().nullable(),
  totalMs: z.number(),
  metadata: z.record(z.string(), z.string()),
  user: z.string().nullable(),
  traceId: z.string().nullable(),
});
export type LogEntry = z.infer<typeof LogEntrySchema>;

export const LogPageSchema = z.object({
  data: z.array(LogEntrySchema),
  nextCursor: z.string().nullable().describe("Pass as `cursor` for the next (older) page; null on the last page."),
});

export const LogDetailSchema = LogEntrySchema.extend({
  attempts: z.array(AttemptSchema).describe("Every upstream attempt in order: provider, model, status, outcome, startMs (after the request entered the gateway), latencyMs, errorClass."),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number(), cachedTokens: z.number(), cacheWriteTokens: z.number(), reasoningTokens: z.number(), estimated: z.boolean() }),
  savedUsd: z.number().nullable(),
  timings: z.object({ ttfbMs: z.number().nullable(), totalMs: z.number(), overheadMs: z.number(), upstreamMs: z.number() }),
  parentSpanId: z.string().nullable(),
  bodies: z.object({ request: z.string(), response: z.string(), truncated: z.boolean() }).nullable().describe("Only when the workspace has logging.bodies on."),
});
export type LogDetail = z.infer<typeof LogDetailSchema>;

const RowSchema = z.object({
  rowid: z.number(),
  request_id: z.string(),
  client_request_id: z.string().nullable(),
  ts: z.number(),
  key_id: z.string().nullable(),
  route: z.string().nullable(),
  operation: z.string(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  status: z.number(),
  outcome: z.string(),
  error_type: z.string().nullable(),
  cache_status: z.string().nullable(),
  stream: z.number(),
  coalesced: z.number(),
  rescued: z.number(),
  attempt_count: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cost_usd: z.number().nullable(),
  ttfb_ms: z.number().nullable(),
  total_ms: z.number(),
  metadata: z.string().nullable(),
  end_user: z.string().nullable(),
  trace_id: z.string().nullable(),
});
const SUMMARY_COLUMNS = Object.keys(RowSchema.shape).join(", ");

const DetailRowSchema = RowSchema.extend({
  attempts: z.string(),
  cached_tokens: z.number(),
  cache_write_tokens: z.number(),
  reasoning_tokens: z.number(),
  usage_estimated: z.number(),
  saved_usd: z.number().nullable(),
  overhead_ms: z.number(),
  parent_span_id: z.string().nullable(),
  body_request: z.string().nullable(),
  body_response: z.string().nullable(),
  body_truncated: z.number().nullable(),
});

const StoredMetadataSchema = z.record(z.string(), z.string());

function entryOf(row: z.infer<typeof RowSchema>): LogEntry {
  return {
    requestId: row.request_id,
    clientRequestId: row.client_request_id,
    time: new Date(row.ts).toISOString(),
    keyId: row.key_id,
    route: row.route,
    operation: row.operation,
    provider: row.provider,
    model: row.model,
    status: row.status,
    outcome: row.outcome,
    errorType: row.error_type,
    cacheStatus: row.cache_status,
    stream: row.stream === 1,
    coalesced: row.coalesced === 1,
    rescued: row.rescued === 1,
    attemptCount: row.attempt_count,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    costUsd: row.cost_usd,
    ttfbMs: row.ttfb_ms,
    totalMs: row.total_ms,
    metadata: row.metadata === null ? {} : StoredMetadataSchema.parse(JSON.parse(row.metadata)),
    user: row.end_user,
    traceId: row.trace_id,
  };
}

/** The cursor names the last row of a page by its time and row id (the index order), base64url JSON. */
const CursorSchema = z.object({ t: z.number().int(), r: z.number().int() });
const encodeCursor = (row: { ts: number; rowid: number }) => btoa(JSON.stringify({ t: row.ts, r: row.rowid })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function decodeCursor(cursor: string): { t: number; r: number } | null {
  try {
    return CursorSchema.parse(JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))));
  } catch {
    return null;
  }
}

export async function listLogs(db: D1Database, workspaceId: string, filters: LogFilters, page: { limit: number; cursor: { t: number; r: number } | null }): Promise<z.infer<typeof LogPageSchema>> {
  const params: (string | number)[] = [workspaceId];
  const conditions = ["workspace_id = ?"];
  const add = (condition: string, ...values: (string | number)[]) => {
    conditions.push(condition);
    params.push(...values);
  };
  if (filters.fromMs !== undefined) add("ts >= ?", filters.fromMs);
  if (filters.toMs !== undefined) add("ts < ?", filters.toMs);
  if (filters.keyId !== undefined) add("key_id = ?", filters.keyId);
  if (filters.route === "(direct)") add("route IS NULL");
  else if (filters.route !== undefined) add("route = ?", filters.route);
  if (filters.provider !== undefined) add("provider = ?", filters.provider);
  if (filters.model !== undefined) add("model = ?", filters.model);
  if (filters.status !== undefined) conditions.push(statusCondition(filters.status, params));
  if (filters.outcome !== undefined) add("outcome = ?", filters.outcome);
  if (filters.cacheStatus === "NONE") add("cache_status IS NULL");
  else if (filters.cacheStatus !== undefined) add("cache_status = ?", filters.cacheStatus);
  if (filters.user !== undefined) add("end_user = ?", filters.user);
  if (filters.minLatencyMs !== undefined) add("total_ms >= ?", filters.minLatencyMs);
  for (const [key, value] of Object.entries(filters.metadata)) add(`json_extract(metadata, ${jsonPathOf(key)}) = ?`, value);
  if (page.cursor) add("(ts < ? OR (ts = ? AND rowid < ?))", page.cursor.t, page.cursor.t, page.cursor.r);
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM usage_events WHERE ${conditions.join(" AND ")} ORDER BY ts DESC, rowid DESC LIMIT ?`;
  const { results } = await db.prepare(sql).bind(...params, page.limit + 1).all();
  const rows = z.array(RowSchema).parse(results);
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit);
  return { data: shown.map(entryOf), nextCursor: more ? encodeCursor(shown.at(-1)!) : null };
}

export async function getLog(db: D1Database, workspaceId: string, requestId: string): Promise<LogDetail | null> {
  const row = await db
    .prepare(
      `SELECT e.rowid AS rowid, ${SUMMARY_COLUMNS.split(", ").filter((c) => c !== "rowid").map((c) => `e.${c}`).join(", ")}, e.attempts, e.cached_tokens, e.cache_write_tokens,
        e.reasoning_tokens, e.usage_estimated, e.saved_usd, e.overhead_ms, e.parent_span_id,
        b.request AS body_request, b.response AS body_response, b.truncated AS body_truncated
       FROM usage_events e LEFT JOIN usage_bodies b ON b.request_id = e.request_id WHERE e.workspace_id = ? AND e.request_id = ?`,
    )
    .bind(workspaceId, requestId)
    .first();
  if (row === null) return null;
  const detail = DetailRowSchema.parse(row);
  const attempts = z.array(AttemptSchema).parse(JSON.parse(detail.attempts));
  return {
    ...entryOf(detail),
    attempts,
    usage: {
      promptTokens: detail.prompt_tokens,
      completionTokens: detail.completion_tokens,
      cachedTokens: detail.cached_tokens,
      cacheWriteTokens: detail.cache_write_tokens,
      reasoningTokens: detail.reasoning_tokens,
      estimated: detail.usage_estimated === 1,
    },
    savedUsd: detail.saved_usd,
    timings: { ttfbMs: detail.ttfb_ms, totalMs: detail.total_ms, overheadMs: detail.overhead_ms, upstreamMs: attempts.reduce((sum, a) => sum + a.latencyMs, 0) },
    parentSpanId: detail.parent_span_id,
    bodies: detail.body_request === null ? null : { request: detail.body_request, response: detail.body_response ?? "", truncated: detail.body_truncated === 1 },
  };
}
