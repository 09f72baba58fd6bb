import { badRequest } from "../lib/errors";
import { queryEvents } from "./query-events";
import { queryRollups } from "./query-rollups";
import * as z from "zod";
import { GuardrailFiguresSchema, metadataKeyOf, type GuardrailFigures, type UsageQuery, type UsageReport, type UsageSources } from "./report";

/**
 * Reading usage back: totals and groups for a workspace over a time window, filtered. Answered from the hourly
 * and daily rollups (fast at any volume, and the only data left past the raw-event retention), or — when the
 * query names a metadata key the workspace does not keep in its rollups, or the end user — from the raw events,
 * within their retention.
 */

const DAY_MS = 86_400_000;

/** The metadata keys a query names (group and filters), and whether it needs the end user. */
function needsOf(query: UsageQuery): { metadataKeys: string[]; user: boolean } {
  const keys = new Set(Object.keys(query.filters.metadata));
  const grouped = metadataKeyOf(query.groupBy);
  if (grouped !== undefined) keys.add(grouped);
  return { metadataKeys: [...keys], user: query.groupBy === "user" || query.filters.user !== undefined };
}

/**
 * Per guardrail rule over the report's window (usage_guardrails, kept with the raw events): only the time range
 * and the key filter apply — the rows carry nothing else to filter on. Rules that blocked most come first.
 */
async function guardrailFigures(db: D1Database, query: UsageQuery, fromMs: number, toMs: number): Promise<GuardrailFigures[]> {
  const params: (string | number)[] = [query.workspaceId, fromMs, toMs];
  let where = "workspace_id = ? AND ts >= ? AND ts < ?";
  if (query.filters.keyId !== undefined) {
    where += " AND key_id = ?";
    params.push(query.filters.keyId);
  }
  const { results } = await db
    .prepare(`SELECT rule, COUNT(*) AS requests, TOTAL(flagged) AS flagged, TOTAL(redacted) AS redacted, TOTAL(blocked) AS blocked
      FROM usage_guardrails WHERE ${where} GROUP BY rule ORDER BY blocked DESC, flagged DESC, redacted DESC, rule`)
    .bind(...params)
    .all();
  return z.array(GuardrailFiguresSchema).parse(results);
}

export async function queryUsage(db: D1Database, query: UsageQuery, sources: UsageSources): Promise<UsageReport> {
  const report = await usageFigures(db, query, sources);
  return { ...report, guardrails: await guardrailFigures(db, query, Date.parse(report.from), Date.parse(report.to)) };
}

async function usageFigures(db: D1Database, query: UsageQuery, sources: UsageSources): Promise<Omit<UsageReport, "guardrails">> {
  const needs = needsOf(query);
  const undeclared = needs.metadataKeys.filter((key) => !sources.declaredKeys.includes(key));
  if (undeclared.length === 0 && !needs.user) return queryRollups(db, query, sources);
  const rawFrom = sources.now - sources.rawRetentionDays * DAY_MS;
  if (query.fromMs < rawFrom) {
    const why = needs.user ? "the end user" : `metadata key${undeclared.length > 1 ? "s" : ""} ${undeclared.map((k) => `"${k}"`).join(", ")}`;
    throw badRequest(
      `Usage by ${why} comes from raw events, kept for ${sources.rawRetentionDays} days (since ${new Date(rawFrom).toISOString()}); narrow \`from\`${needs.user ? "" : ", or add the key to the workspace config's usage.metadataKeys to keep it in the rollups from now on"}.`,
      "from",
      "beyond_raw_retention",
    );
  }
  return queryEvents(db, query);
}
