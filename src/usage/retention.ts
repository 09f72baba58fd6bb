import type { RetentionSettings } from "./settings";

/**
 * The retention job (the Worker's `scheduled` handler, wrangler.toml `[triggers] crons`): deletes raw usage
 * events older than the raw retention (their logged bodies go with them, by trigger; guardrail rows of the same
 * age too) and hourly rollups older
 * than theirs. Daily rollups stay. Work is done per workspace in bounded chunks along the (workspace_id, ts)
 * index and the rollups' primary key, so no statement scans a table and none runs long; what a run leaves
 * (past its time budget) the next run finishes.
 */

const DAY_MS = 86_400_000;
/** Rows per DELETE statement: each is one short D1 write. */
export const RETENTION_CHUNK_ROWS = 5_000;
/** A run stops starting new chunks after this long (cron runs may take up to 15 minutes of wall time). */
const RUN_BUDGET_MS = 5 * 60_000;

export type RetentionReport = { eventsDeleted: number; guardrailRowsDeleted: number; hourlyRowsDeleted: number; complete: boolean };

/** Distinct workspace ids through an index, one seek each (a "loose index scan"), not a table scan. */
const workspacesSql = (table: string) => `WITH RECURSIVE ws(id) AS (
  SELECT (SELECT MIN(workspace_id) FROM ${table})
  UNION ALL
  SELECT (SELECT MIN(workspace_id) FROM ${table} WHERE workspace_id > ws.id) FROM ws WHERE ws.id IS NOT NULL
) SELECT id FROM ws WHERE id IS NOT NULL`;

const DELETE_EVENTS = `DELETE FROM usage_events WHERE rowid IN (SELECT rowid FROM usage_events WHERE workspace_id = ? AND ts < ? LIMIT ${RETENTION_CHUNK_ROWS})`;
const DELETE_GUARDRAILS = `DELETE FROM usage_guardrails WHERE rowid IN (SELECT rowid FROM usage_guardrails WHERE workspace_id = ? AND ts < ? LIMIT ${RETENTION_CHUNK_ROWS})`;
const HOURLY_KEY = "workspace_id, bucket_start, key_id, route, provider, model, status, dims";
const DELETE_HOURLY = `DELETE FROM usage_rollup_hourly WHERE (${HOURLY_KEY}) IN (SELECT ${HOURLY_KEY} FROM usage_rollup_hourly WHERE workspace_id = ? AND bucket_start < ? LIMIT ${RETENTION_CHUNK_ROWS})`;

async function workspacesOf(db: D1Database, table: string): Promise<string[]> {
  const { results } = await db.prepare(workspacesSql(table)).all<{ id: string }>();
  return results.map((row) => row.id);
}

async function deleteInChunks(db: D1Database, sql: string, workspaceId: string, cutoff: number, deadline: number): Promise<{ deleted: number; complete: boolean }> {
  let deleted = 0;
  for (;;) {
    if (Date.now() > deadline) return { deleted, complete: false };
    const changes = (await db.prepare(sql).bind(workspaceId, cutoff).run()).meta.changes;
    deleted += changes;
    if (changes < RETENTION_CHUNK_ROWS) return { deleted, complete: true };
  }
}

export async function runRetention(db: D1Database, settings: RetentionSettings, now: number, budgetMs = RUN_BUDGET_MS): Promise<RetentionReport> {
  const deadline = Date.now() + budgetMs;
  const report: RetentionReport = { eventsDeleted: 0, guardrailRowsDeleted: 0, hourlyRowsDeleted: 0, complete: true };
  const rawCutoff = now - settings.rawDays * DAY_MS;
  for (const workspaceId of await workspacesOf(db, "usage_events")) {
    const result = await deleteInChunks(db, DELETE_EVENTS, workspaceId, rawCutoff, deadline);
    report.eventsDeleted += result.deleted;
    report.complete &&= result.complete;
  }
  for (const workspaceId of await workspacesOf(db, "usage_guardrails")) {
    const result = await deleteInChunks(db, DELETE_GUARDRAILS, workspaceId, rawCutoff, deadline);
    report.guardrailRowsDeleted += result.deleted;
    report.complete &&= result.complete;
  }
  const hourlyCutoff = now - settings.hourlyDays * DAY_MS;
  for (const workspaceId of await workspacesOf(db, "usage_rollup_hourly")) {
    const result = await deleteInChunks(db, DELETE_HOURLY, workspaceId, hourlyCutoff, deadline);
    report.hourlyRowsDeleted += result.deleted;
    report.complete &&= result.complete;
  }
  console.log(JSON.stringify({ level: "info", message: "usage retention run", ...report, rawCutoff: new Date(rawCutoff).toISOString(), hourlyCutoff: new Date(hourlyCutoff).toISOString() }));
  return report;
}
