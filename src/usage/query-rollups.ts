import * as z from "zod";
import { BUCKET_COLUMNS, percentileOf } from "./latency-histogram";
import { jsonPathOf, metadataKeyOf, round, sortGroups, statusCondition, type GroupBy, type UsageFigures, type UsageFilters, type UsageGroup, type UsageQuery, type UsageReport, type UsageSources } from "./report";

/**
 * Usage from the rollups (migrations/0003_observability.sql). A range is read in whole UTC hours: whole days from
 * the daily table, the hours at either end from the hourly one — or, where hourly rows are past their retention,
 * the whole day from the daily table (the report's `from` / `to` say which range was covered).
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;
const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;

type Segment = { table: "usage_rollup_hourly" | "usage_rollup_daily"; from: number; to: number };

/**
 * The segments that cover [fromMs, toMs): whole days from the daily table, the hours at either end from the
 * hourly one. Hours older than `hourlyFrom` are no longer kept: an end that needs them covers its whole day.
 */
export function segmentsOf(fromMs: number, toMs: number, hourlyFrom: number): Segment[] {
  const fromH = floorTo(fromMs, HOUR_MS);
  const toH = ceilTo(toMs, HOUR_MS);
  const dayFrom = ceilTo(fromH, DAY_MS);
  const dayTo = floorTo(toH, DAY_MS);
  const pieces: Segment[] =
    dayFrom >= dayTo
      ? [{ table: "usage_rollup_hourly", from: fromH, to: toH }]
      : [
          ...(fromH < dayFrom ? [{ table: "usage_rollup_hourly" as const, from: fromH, to: dayFrom }] : []),
          { table: "usage_rollup_daily", from: dayFrom, to: dayTo },
          ...(dayTo < toH ? [{ table: "usage_rollup_hourly" as const, from: dayTo, to: toH }] : []),
        ];
  // Hours past the hourly retention: read their whole day instead, then join neighbouring days.
  const widened = pieces.map((piece) =>
    piece.table === "usage_rollup_hourly" && piece.from < hourlyFrom ? { table: "usage_rollup_daily" as const, from: floorTo(piece.from, DAY_MS), to: ceilTo(piece.to, DAY_MS) } : piece,
  );
  const merged: Segment[] = [];
  for (const piece of widened) {
    const last = merged.at(-1);
    if (last && last.table === "usage_rollup_daily" && piece.table === "usage_rollup_daily" && piece.from <= last.to) last.to = Math.max(last.to, piece.to);
    else merged.push({ ...piece });
  }
  return merged;
}

function groupExpression(groupBy: GroupBy | undefined): string {
  if (groupBy === undefined) return "''";
  const key = metadataKeyOf(groupBy);
  if (key !== undefined) return `COALESCE(json_extract(dims, ${jsonPathOf(key)}), '(none)')`;
  switch (groupBy) {
    case "key":
      return "CASE key_id WHEN '' THEN '(none)' ELSE key_id END";
    case "route":
      return "CASE route WHEN '' THEN '(direct)' ELSE route END";
    case "provider":
      return "CASE provider WHEN '' THEN '(none)' ELSE provider END";
    case "model":
      return "CASE provider WHEN '' THEN '(none)' ELSE provider || '/' || model END";
    case "status":
      return "CAST(status AS TEXT)";
    case "day":
      return "strftime('%Y-%m-%d', bucket_start / 1000, 'unixepoch')";
    case "batch":
      return "CASE batch_id WHEN '' THEN '(interactive)' ELSE batch_id END";
    default:
      throw new Error(`groupBy ${groupBy} is not answered from rollups`);
  }
}

function whereOf(workspaceId: string, segment: Segment, filters: UsageFilters): { where: string; params: (string | number)[] } {
  const params: (string | number)[] = [workspaceId, segment.from, segment.to];
  const conditions = ["workspace_id = ?", "bucket_start >= ?", "bucket_start < ?"];
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    conditions.push(`${column} = ?`);
    params.push(value);
  };
  equal("key_id", filters.keyId);
  equal("route", filters.route === "(direct)" ? "" : filters.route);
  equal("provider", filters.provider);
  equal("model", filters.model);
  if (filters.status !== undefined) conditions.push(statusCondition(filters.status, params));
  for (const [key, value] of Object.entries(filters.metadata)) {
    conditions.push(`json_extract(dims, ${jsonPathOf(key)}) = ?`);
    params.push(value);
  }
  return { where: conditions.join(" AND "), params };
}

const SUMMED = ["requests", "prompt_tokens", "completion_tokens", "cost_usd", "priced", "cache_hits", "saved_usd", "rescued", "errors", "aborted", "estimated"] as const;

const RollupRowSchema = z.object({
  grp: z.string(),
  ...Object.fromEntries(SUMMED.map((column) => [column, z.number()])),
  latency_min_ms: z.number().nullable(),
  latency_max_ms: z.number().nullable(),
  ...Object.fromEntries(BUCKET_COLUMNS.map((column) => [column, z.number()])),
}).transform((row) => row as { grp: string; latency_min_ms: number | null; latency_max_ms: number | null } & Record<string, number>);

function selectSql(segment: Segment, groupBy: GroupBy | undefined, where: string): string {
  const sums = [...SUMMED, ...BUCKET_COLUMNS].map((column) => `TOTAL(${column}) AS ${column}`).join(", ");
  return `SELECT ${groupExpression(groupBy)} AS grp, ${sums}, MIN(latency_min_ms) AS latency_min_ms, MAX(latency_max_ms) AS latency_max_ms
    FROM ${segment.table} WHERE ${where} GROUP BY grp`;
}

type Accumulator = { sums: Record<string, number>; min: number; max: number; histogram: number[] };

function accumulate(into: Accumulator, row: z.infer<typeof RollupRowSchema>): void {
  for (const column of SUMMED) into.sums[column] = (into.sums[column] ?? 0) + (row[column] ?? 0);
  BUCKET_COLUMNS.forEach((column, k) => (into.histogram[k]! += row[column] ?? 0));
  if (row.latency_min_ms !== null) into.min = Math.min(into.min, row.latency_min_ms);
  if (row.latency_max_ms !== null) into.max = Math.max(into.max, row.latency_max_ms);
}

const emptyAccumulator = (): Accumulator => ({ sums: {}, min: Infinity, max: -Infinity, histogram: new Array<number>(BUCKET_COLUMNS.length).fill(0) });

function figuresOf(a: Accumulator): UsageFigures {
  const s = (column: (typeof SUMMED)[number]) => a.sums[column] ?? 0;
  const requests = s("requests");
  const percentile = (p: number) => (requests > 0 ? percentileOf(a.histogram, p, a.min, a.max) : null);
  return {
    requests,
    promptTokens: s("prompt_tokens"),
    completionTokens: s("completion_tokens"),
    // Rounded to 1e-9 USD: sums of float products would otherwise show binary noise.
    costUsd: s("priced") > 0 || requests === 0 ? round(s("cost_usd"), 9) : null,
    unpricedRequests: requests - s("priced"),
    cacheHits: s("cache_hits"),
    savedUsd: round(s("saved_usd"), 9),
    rescued: s("rescued"),
    errors: s("errors"),
    aborted: s("aborted"),
    estimatedUsage: s("estimated"),
    latencyMs: { p50: percentile(50), p95: percentile(95), p99: percentile(99) },
  };
}

export async function queryRollups(db: D1Database, query: UsageQuery, sources: UsageSources): Promise<Omit<UsageReport, "guardrails">> {
  const hourlyFrom = ceilTo(sources.now - sources.hourlyRetentionDays * DAY_MS, HOUR_MS) + HOUR_MS;
  const segments = segmentsOf(query.fromMs, query.toMs, hourlyFrom);
  const statements = segments.map((segment) => {
    const { where, params } = whereOf(query.workspaceId, segment, query.filters);
    return db.prepare(selectSql(segment, query.groupBy, where)).bind(...params);
  });
  const results = await db.batch(statements);
  const groups = new Map<string, Accumulator>();
  const total = emptyAccumulator();
  for (const result of results) {
    for (const row of z.array(RollupRowSchema).parse(result.results)) {
      let group = groups.get(row.grp);
      if (!group) groups.set(row.grp, (group = emptyAccumulator()));
      accumulate(group, row);
      accumulate(total, row);
    }
  }
  const grouped: UsageGroup[] = query.groupBy ? [...groups].map(([key, a]) => ({ key, ...figuresOf(a) })) : [];
  return {
    from: new Date(Math.min(...segments.map((s) => s.from))).toISOString(),
    to: new Date(Math.max(...segments.map((s) => s.to))).toISOString(),
    groupBy: query.groupBy ?? null,
    source: "rollups",
    totals: figuresOf(total),
    groups: sortGroups(grouped, query.groupBy),
  };
}
