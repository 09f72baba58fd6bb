import { BUCKET_COLUMNS, bucketSql } from "./latency-histogram";

/**
 * The SQL that writes the hourly and daily rollups (migrations/0003_observability.sql) in the same D1 transaction as the
 * events they count. The transaction first notes the table's largest rowid; the events it then inserts are
 * exactly the rows above it (SQLite gives a new row a rowid above every existing one, and D1 runs one
 * transaction at a time) — a redelivered event is not inserted (`ON CONFLICT DO NOTHING`) and so is not counted
 * again. Those rows are aggregated in SQL: one upsert per distinct hour × dimensions of the batch, not one per
 * event.
 */

const DIMENSIONS = ["workspace_id", "bucket_start", "key_id", "route", "provider", "model", "status", "dims", "batch_id"];
const SUMS = ["requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "priced", "cache_hits", "saved_tokens", "saved_usd", "rescued", "errors", "aborted", "estimated", "latency_sum_ms"];
const COLUMNS = [...DIMENSIONS, ...SUMS, "latency_min_ms", "latency_max_ms", ...BUCKET_COLUMNS];

const AGGREGATES = [
  "COUNT(*)", "TOTAL(prompt_tokens)", "TOTAL(completion_tokens)", "TOTAL(cached_tokens)", "TOTAL(cache_write_tokens)", "TOTAL(reasoning_tokens)",
  "TOTAL(cost_usd)", "COUNT(cost_usd)", "TOTAL(cache_status IS 'HIT')", "TOTAL(saved_tokens)", "TOTAL(saved_usd)", "TOTAL(rescued)",
  "TOTAL(outcome = 'error')", "TOTAL(outcome = 'aborted')", "TOTAL(usage_estimated)", "TOTAL(total_ms)", "MIN(total_ms)", "MAX(total_ms)",
  ...BUCKET_COLUMNS.map((_c, k) => `TOTAL(bucket = ${k})`),
];

const upsertSet = [...SUMS, ...BUCKET_COLUMNS].map((c) => `${c} = ${c} + excluded.${c}`).concat(["latency_min_ms = MIN(latency_min_ms, excluded.latency_min_ms)", "latency_max_ms = MAX(latency_max_ms, excluded.latency_max_ms)"]);

const rollupSql = (table: string, sizeMs: number) => `INSERT INTO ${table} (${COLUMNS.join(", ")})
  SELECT workspace_id, ts - ts % ${sizeMs}, COALESCE(key_id, ''), COALESCE(route, ''), COALESCE(provider, ''), COALESCE(model, ''), status, rollup_dims, COALESCE(batch_id, ''), ${AGGREGATES.join(", ")}
  FROM (SELECT *, ${bucketSql("total_ms")} AS bucket FROM usage_events WHERE rowid > (SELECT after_rowid FROM usage_rollup_marks WHERE batch_id = ?1))
  WHERE true
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ON CONFLICT (${DIMENSIONS.join(", ")}) DO UPDATE SET ${upsertSet.join(", ")}`;

const MARK = "INSERT INTO usage_rollup_marks (batch_id, after_rowid) SELECT ?1, COALESCE(MAX(rowid), 0) FROM usage_events";
const HOURLY = rollupSql("usage_rollup_hourly", 3_600_000);
const DAILY = rollupSql("usage_rollup_daily", 86_400_000);
const UNMARK = "DELETE FROM usage_rollup_marks WHERE batch_id = ?1";

/** The four statements around a transaction's inserts, `?1` its batch id (test-browser seeds history with them too). */
export const ROLLUP_STATEMENTS = { mark: MARK, hourly: HOURLY, daily: DAILY, unmark: UNMARK } as const;

