import * as z from "zod";

/**
 * Reading usage back from D1: totals and groups for a workspace over a time window. Latency percentiles are
 * nearest-rank over total latency, computed in SQL with window functions (no rows leave D1).
 */

export const GROUP_BY = ["key", "route", "provider", "model", "day", "batch"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** SQL expression per grouping; `model` is `provider/model` because prices (and names) are per provider. */
const GROUP_EXPRESSION: Record<GroupBy, string> = {
  key: "COALESCE(key_id, '(none)')",
  route: "COALESCE(route, '(direct)')",
  provider: "COALESCE(provider, '(none)')",
  model: "COALESCE(provider || '/' || model, '(none)')",
  day: "day",
  batch: "COALESCE(batch_id, '(interactive)')",
};

export const UsageFiguresSchema = z.object({
  requests: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
  /** Sum over priced requests; null when every request in the group is unpriced. */
  costUsd: z.number().nullable(),
  unpricedRequests: z.number(),
  cacheHits: z.number(),
  savedUsd: z.number(),
  rescued: z.number(),
  errors: z.number(),
  aborted: z.number(),
  estimatedUsage: z.number(),
  latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }),
});
export type UsageFigures = z.infer<typeof UsageFiguresSchema>;
/** Per guardrail rule over the window: requests it acted on, matches flagged and redacted, requests blocked. */
export const GuardrailFiguresSchema = z.object({
  rule: z.string(),
  requests: z.number(),
  flagged: z.number(),
  redacted: z.number(),
  blocked: z.number(),
});
export type GuardrailFigures = z.infer<typeof GuardrailFiguresSchema>;

export const UsageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(GROUP_BY).nullable(),
  totals: UsageFiguresSchema,
  groups: z.array(UsageFiguresSchema.extend({ key: z.string() })),
  guardrails: z.array(GuardrailFiguresSchema),
});
export type UsageReport = z.infer<typeof UsageReportSchema>;
export type UsageGroup = UsageReport["groups"][number];

export type UsageQuery = { workspaceId: string; fromMs: number; toMs: number; groupBy?: GroupBy | undefined; keyId?: string | undefined };

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
const GuardrailRowSchema = z.object({ rule: z.string(), requests: z.number(), flagged: z.number(), redacted: z.number(), blocked: z.number() });
const PercentileRowSchema = z.object({ grp: z.string(), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });

function filterOf(query: UsageQuery): { where: string; params: (string | number)[] } {
  const params: (string | number)[] = [query.workspaceId, query.fromMs, query.toMs];
  let where = "workspace_id = ? AND ts >= ? AND ts < ?";
  if (query.keyId !== undefined) {
    where += " AND key_id = ?";
    params.push(query.keyId);
  }
  return { where, params };
}

function aggregateSql(group: string, where: string): string {
  return `SELECT ${group} AS grp, COUNT(*) AS requests, TOTAL(prompt_tokens) AS prompt_tokens, TOTAL(completion_tokens) AS completion_tokens,
    SUM(cost_usd) AS cost_usd, TOTAL(cost_usd IS NULL) AS unpriced, TOTAL(cache_status = 'HIT') AS cache_hits, TOTAL(saved_usd) AS saved_usd,
    TOTAL(rescued) AS rescued, TOTAL(outcome = 'error') AS errors, TOTAL(outcome = 'aborted') AS aborted, TOTAL(usage_estimated) AS estimated
    FROM usage_events WHERE ${where} GROUP BY grp ORDER BY grp`;
}

/** Rules that blocked most first, then those that flagged most. */
function guardrailSql(where: string): string {
  return `SELECT rule, COUNT(*) AS requests, TOTAL(flagged) AS flagged, TOTAL(redacted) AS redacted, TOTAL(blocked) AS blocked
    FROM usage_guardrails WHERE ${where} GROUP BY rule ORDER BY blocked DESC, flagged DESC, redacted DESC, rule`;
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

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function figuresOf(row: z.infer<typeof AggregateRowSchema>, percentiles: z.infer<typeof PercentileRowSchema> | undefined): UsageFigures {
  return {
    requests: row.requests,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    // Rounded to 1e-9 USD: sums of float products would otherwise show binary noise.
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

export async function queryUsage(db: D1Database, query: UsageQuery): Promise<UsageReport> {
  const { where, params } = filterOf(query);
  const statements = [
    db.prepare(aggregateSql("''", where)).bind(...params),
    db.prepare(percentileSql("''", where)).bind(...params),
    db.prepare(guardrailSql(where)).bind(...params),
  ];
  if (query.groupBy) {
    const group = GROUP_EXPRESSION[query.groupBy];
    statements.push(db.prepare(aggregateSql(group, where)).bind(...params), db.prepare(percentileSql(group, where)).bind(...params));
  }
  const [totalRows, totalPercentiles, guardrailRows, groupRows, groupPercentiles] = await db.batch(statements);
  const parseAggregates = (result: D1Result | undefined) => z.array(AggregateRowSchema).parse(result?.results ?? []);
  const parsePercentiles = (result: D1Result | undefined) => new Map(z.array(PercentileRowSchema).parse(result?.results ?? []).map((row) => [row.grp, row]));

  const total = parseAggregates(totalRows)[0];
  const totals = total ? figuresOf(total, parsePercentiles(totalPercentiles).get("")) : EMPTY;
  let groups: UsageGroup[] = [];
  if (query.groupBy) {
    const percentiles = parsePercentiles(groupPercentiles);
    groups = parseAggregates(groupRows).map((row) => ({ key: row.grp, ...figuresOf(row, percentiles.get(row.grp)) }));
    // Spend first (unpriced last), then volume; days stay in date order.
    if (query.groupBy !== "day") groups.sort((a, b) => (b.costUsd ?? -1) - (a.costUsd ?? -1) || b.requests - a.requests);
  }
  const guardrails = z.array(GuardrailRowSchema).parse(guardrailRows?.results ?? []);
  return { from: new Date(query.fromMs).toISOString(), to: new Date(query.toMs).toISOString(), groupBy: query.groupBy ?? null, totals, groups, guardrails };
}
