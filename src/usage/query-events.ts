import * as z from "zod";
import { jsonPathOf, metadataKeyOf, round, sortGroups, statusCondition, type GroupBy, type UsageFigures, type UsageGroup, type UsageQuery, type UsageReport } from "./report";

/**
 * Usage from the raw events (usage_events), for what the rollups do not keep — a metadata key the workspace did
 * not declare, the end user — within the raw retention. Exact: latency percentiles are nearest-rank over total
 * latency, computed in SQL with window functions (no rows leave D1).
 */

function groupExpression(groupBy: GroupBy | undefined): string {
  if (groupBy === undefined) return "''";
  const key = metadataKeyOf(groupBy);
  if (key !== undefined) return `COALESCE(json_extract(metadata, ${jsonPathOf(key)}), '(none)')`;
  switch (groupBy) {
    case "key":
      return "COALESCE(key_id, '(none)')";
    case "route":
      return "COALESCE(route, '(direct)')";
    case "provider":
      return "COALESCE(provider, '(none)')";
    case "model":
      return "COALESCE(provider || '/' || model, '(none)')";
    case "status":
      return "CAST(status AS TEXT)";
    case "day":
      return "day";
    case "user":
      return "COALESCE(end_user, '(none)')";
    case "batch":
      return "COALESCE(batch_id, '(interactive)')";
  }
  throw new Error(`unknown groupBy ${groupBy}`);
}

function filterOf(query: UsageQuery): { where: string; params: (string | number)[] } {
  const params: (string | number)[] = [query.workspaceId, query.fromMs, query.toMs];
  const conditions = ["workspace_id = ?", "ts >= ?", "ts < ?"];
  const { filters } = query;
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    conditions.push(`${column} = ?`);
    params.push(value);
  };
  equal("key_id", filters.keyId);
  if (filters.route === "(direct)") conditions.push("route IS NULL");
  else equal("route", filters.route);
  equal("provider", filters.provider);
  equal("model", filters.model);
  equal("end_user", filters.user);
  if (filters.status !== undefined) conditions.push(statusCondition(filters.status, params));
  for (const [key, value] of Object.entries(filters.metadata)) {
    conditions.push(`json_extract(metadata, ${jsonPathOf(key)}) = ?`);
    params.push(value);
  }
  return { where: conditions.join(" AND "), params };
}

const AggregateRowSchema = z.object({
  grp: z.string(),
  requests: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cost_usd: z.number().nullable(),
  unpriced: z.number(),
  cache_hits: z.number(),
  saved_usd: z.number(),
  rescued: z.number(),
  errors: z.number(),
  aborted: z.number(),
  estimated: z.number(),
});
const PercentileRowSchema = z.object({ grp: z.string(), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });

function aggregateSql(group: string, where: string): string {
  return `SELECT ${group} AS grp, COUNT(*) AS requests, TOTAL(prompt_tokens) AS prompt_tokens, TOTAL(completion_tokens) AS completion_tokens,
    SUM(cost_usd) AS cost_usd, TOTAL(cost_usd IS NULL) AS unpriced, TOTAL(cache_status = 'HIT') AS cache_hits, TOTAL(saved_usd) AS saved_usd,
    TOTAL(rescued) AS rescued, TOTAL(outcome = 'error') AS errors, TOTAL(outcome = 'aborted') AS aborted, TOTAL(usage_estimated) AS estimated
    FROM usage_events WHERE ${where} GROUP BY grp ORDER BY grp`;
}

/** Nearest rank: the smallest value whose rank r satisfies r >= p·n, i.e. r·100 >= n·P (integer arithmetic). */
function percentileSql(group: string, where: string): string {
  return `WITH ranked AS (
      SELECT ${group} AS grp, total_ms, ROW_NUMBER() OVER (PARTITION BY ${group} ORDER BY total_ms) AS rn, COUNT(*) OVER (PARTITION BY ${group}) AS n
      FROM usage_events WHERE ${where})
    SELECT grp, MIN(CASE WHEN rn * 100 >= n * 50 THEN total_ms END) AS p50, MIN(CASE WHEN rn * 100 >= n * 95 THEN total_ms END) AS p95,
      MIN(CASE WHEN rn * 100 >= n * 99 THEN total_ms END) AS p99
    FROM ranked GROUP BY grp`;
}

function figuresOf(row: z.infer<typeof AggregateRowSchema>, percentiles: z.infer<typeof PercentileRowSchema> | undefined): UsageFigures {
  return {
    requests: row.requests,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    costUsd: row.cost_usd === null ? null : round(row.cost_usd, 9),
    unpricedRequests: row.unpriced,
    cacheHits: row.cache_hits,
    savedUsd: round(row.saved_usd, 9),
    rescued: row.rescued,
    errors: row.errors,
    aborted: row.aborted,
    estimatedUsage: row.estimated,
    latencyMs: { p50: percentiles?.p50 ?? null, p95: percentiles?.p95 ?? null, p99: percentiles?.p99 ?? null },
  };
}

const EMPTY: UsageFigures = figuresOf(
  { grp: "", requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, unpriced: 0, cache_hits: 0, saved_usd: 0, rescued: 0, errors: 0, aborted: 0, estimated: 0 },
  undefined,
);

export async function queryEvents(db: D1Database, query: UsageQuery): Promise<Omit<UsageReport, "guardrails">> {
  const { where, params } = filterOf(query);
  const statements = [db.prepare(aggregateSql("''", where)).bind(...params), db.prepare(percentileSql("''", where)).bind(...params)];
  if (query.groupBy) {
    const group = groupExpression(query.groupBy);
    statements.push(db.prepare(aggregateSql(group, where)).bind(...params), db.prepare(percentileSql(group, where)).bind(...params));
  }
  const [totalRows, totalPercentiles, groupRows, groupPercentiles] = await db.batch(statements);
  const parseAggregates = (result: D1Result | undefined) => z.array(AggregateRowSchema).parse(result?.results ?? []);
  const parsePercentiles = (result: D1Result | undefined) => new Map(z.array(PercentileRowSchema).parse(result?.results ?? []).map((row) => [row.grp, row]));

  const total = parseAggregates(totalRows)[0];
  const totals = total ? figuresOf(total, parsePercentiles(totalPercentiles).get("")) : EMPTY;
  let groups: UsageGroup[] = [];
  if (query.groupBy) {
    const percentiles = parsePercentiles(groupPercentiles);
    groups = parseAggregates(groupRows).map((row) => ({ key: row.grp, ...figuresOf(row, percentiles.get(row.grp)) }));
  }
  return { from: new Date(query.fromMs).toISOString(), to: new Date(query.toMs).toISOString(), groupBy: query.groupBy ?? null, source: "events", totals, groups: sortGroups(groups, query.groupBy) };
}
