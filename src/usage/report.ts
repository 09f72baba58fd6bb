import * as z from "zod";
import { MetadataKeySchema } from "../schema/metadata";

/** The usage query and report shapes, shared by both readers (./query-rollups.ts, ./query-events.ts). */

export const FIXED_GROUP_BY = ["key", "route", "provider", "model", "status", "day", "user", "batch"] as const;
const METADATA_PREFIX = "metadata.";

/** `key`, `route`, …, or `metadata.<key>`. */
export const GroupBySchema = z.union([
  z.enum(FIXED_GROUP_BY),
  z.templateLiteral([METADATA_PREFIX, z.string()]).refine((value) => MetadataKeySchema.safeParse(value.slice(METADATA_PREFIX.length)).success, "metadata.<key> with a valid metadata key"),
]);
export type GroupBy = z.infer<typeof GroupBySchema>;

export const metadataKeyOf = (groupBy: GroupBy | undefined): string | undefined => (groupBy?.startsWith(METADATA_PREFIX) ? groupBy.slice(METADATA_PREFIX.length) : undefined);

/** A status or a class of them: `429`, `4xx`. */
export const StatusFilterSchema = z.union([z.string().regex(/^[1-5]xx$/), z.string().regex(/^[1-5]\d\d$/)]);

export type UsageFilters = {
  keyId?: string | undefined;
  /** A route name, or `(direct)` for direct provider/model requests. */
  route?: string | undefined;
  provider?: string | undefined;
  /** The provider's model name (as `groupBy=model` shows after the `provider/`). */
  model?: string | undefined;
  status?: string | undefined;
  user?: string | undefined;
  metadata: Record<string, string>;
};

export type UsageQuery = { workspaceId: string; fromMs: number; toMs: number; groupBy?: GroupBy | undefined; filters: UsageFilters };

/** What the query may draw on: the workspace's rollup keys and how far back each kind of data reaches. */
export type UsageSources = { declaredKeys: readonly string[]; rawRetentionDays: number; hourlyRetentionDays: number; now: number };

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
  from: z.string().describe("The start of the range the figures cover (rollups: rounded down to the hour, or the day past the hourly retention)."),
  to: z.string(),
  groupBy: GroupBySchema.nullable(),
  source: z.enum(["rollups", "events"]).describe("rollups: percentiles estimated from a histogram (within ~12%); events: exact."),
  totals: UsageFiguresSchema,
  groups: z.array(UsageFiguresSchema.extend({ key: z.string() })),
  guardrails: z.array(GuardrailFiguresSchema).describe("Per guardrail rule (docs/guardrails.md), from its raw rows: filtered by time and key only, within the raw retention."),
});
export type UsageReport = z.infer<typeof UsageReportSchema>;
export type UsageGroup = UsageReport["groups"][number];

/** Spend first (unpriced last), then volume; days and statuses stay in their own order. */
export function sortGroups(groups: UsageGroup[], groupBy: GroupBy | undefined): UsageGroup[] {
  if (groupBy === "day" || groupBy === "status") return groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return groups.sort((a, b) => (b.costUsd ?? -1) - (a.costUsd ?? -1) || b.requests - a.requests || (a.key < b.key ? -1 : 1));
}

export const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A metadata key is validated at the API boundary (letters, digits, `_ - . :`); checked again before it is inlined in SQL. */
export function jsonPathOf(key: string): string {
  if (!/^[A-Za-z0-9_.:-]+$/.test(key)) throw new Error(`invalid metadata key ${key}`);
  return `'$."${key}"'`;
}

/** A status filter as SQL: an exact code or a class (`5xx`). */
export function statusCondition(status: string, params: (string | number)[]): string {
  if (status.endsWith("xx")) {
    params.push(Number(status[0]) * 100, Number(status[0]) * 100 + 100);
    return "status >= ? AND status < ?";
  }
  params.push(Number(status));
  return "status = ?";
}
