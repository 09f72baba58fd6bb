import { randomId } from "../lib/ids";
import { BatchRecordSchema, STATUS_TIMESTAMP, type BatchRecord, type BatchStatus } from "./schema";

/**
 * Batch records in D1 (`batches`, migrations/0004). Reads are scoped to a workspace; every status change is a
 * compare-and-set on the current status, so the API (cancel) and the driver (polling) never overwrite each
 * other's transition.
 */

export const newBatchId = () => randomId("batch_", 24);

const COLUMNS: Record<keyof BatchRecord, string> = {
  id: "id",
  workspaceId: "workspace_id",
  keyId: "key_id",
  api: "api",
  endpoint: "endpoint",
  mode: "mode",
  route: "route",
  provider: "provider",
  model: "model",
  inputFileId: "input_file_id",
  completionWindow: "completion_window",
  metadata: "metadata",
  status: "status",
  total: "total",
  completed: "completed",
  failed: "failed",
  unprocessed: "unprocessed",
  outputFileId: "output_file_id",
  errorFileId: "error_file_id",
  errors: "errors",
  usage: "usage",
  runnerState: "runner_state",
  createdAt: "created_at",
  inProgressAt: "in_progress_at",
  expiresAt: "expires_at",
  finalizingAt: "finalizing_at",
  completedAt: "completed_at",
  failedAt: "failed_at",
  expiredAt: "expired_at",
  cancellingAt: "cancelling_at",
  cancelledAt: "cancelled_at",
};
const JSON_FIELDS = new Set<keyof BatchRecord>(["metadata", "errors", "usage", "runnerState"]);

const toColumn = (field: keyof BatchRecord, value: unknown): unknown => (JSON_FIELDS.has(field) ? (value === null ? null : JSON.stringify(value)) : value);

function recordOf(row: Record<string, unknown>): BatchRecord {
  const out: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(COLUMNS) as [keyof BatchRecord, string][]) {
    const value = row[column] ?? null;
    out[field] = JSON_FIELDS.has(field) && typeof value === "string" ? JSON.parse(value) : value;
  }
  return BatchRecordSchema.parse(out);
}

export async function insertBatch(db: D1Database, batch: BatchRecord): Promise<void> {
  const fields = Object.keys(COLUMNS) as (keyof BatchRecord)[];
  await db
    .prepare(`INSERT INTO batches (${fields.map((f) => COLUMNS[f]).join(", ")}) VALUES (${fields.map(() => "?").join(", ")})`)
    .bind(...fields.map((f) => toColumn(f, batch[f])))
    .run();
}

export async function findBatch(db: D1Database, workspaceId: string, batchId: string): Promise<BatchRecord | null> {
  const row = await db.prepare("SELECT * FROM batches WHERE workspace_id = ? AND id = ?").bind(workspaceId, batchId).first<Record<string, unknown>>();
  return row ? recordOf(row) : null;
}

export type BatchListQuery = { limit: number; after?: string | undefined; before?: string | undefined; api?: BatchRecord["api"] };

/** Newest first; `after` pages toward older batches (OpenAI and Anthropic's `after_id`), `before` toward newer. */
export async function listBatches(db: D1Database, workspaceId: string, query: BatchListQuery): Promise<{ batches: BatchRecord[]; hasMore: boolean }> {
  const params: (string | number)[] = [workspaceId];
  let where = "workspace_id = ?";
  if (query.api) {
    where += " AND api = ?";
    params.push(query.api);
  }
  const cursor = "(SELECT created_at, rowid FROM batches WHERE workspace_id = ? AND id = ?)";
  if (query.after !== undefined) {
    where += ` AND (created_at, rowid) < ${cursor}`;
    params.push(workspaceId, query.after);
  }
  if (query.before !== undefined) {
    where += ` AND (created_at, rowid) > ${cursor}`;
    params.push(workspaceId, query.before);
  }
  // Paging toward newer batches reads upward from the cursor, then shows the page newest first again.
  const ascending = query.before !== undefined && query.after === undefined;
  const order = ascending ? "ASC" : "DESC";
  const rows = await db.prepare(`SELECT * FROM batches WHERE ${where} ORDER BY created_at ${order}, rowid ${order} LIMIT ?`).bind(...params, query.limit + 1).all<Record<string, unknown>>();
  const batches = rows.results.map(recordOf);
  const page = batches.slice(0, query.limit);
  return { batches: ascending ? page.reverse() : page, hasMore: batches.length > query.limit };
}

export type BatchPatch = Partial<Omit<BatchRecord, "id" | "workspaceId" | "status">>;

/**
 * Moves a batch from one of `from` to `to` (stamping the status's timestamp) with `patch`; false when the batch
 * was no longer in one of `from` (someone else moved it first).
 */
export async function transition(db: D1Database, batch: Pick<BatchRecord, "id" | "workspaceId">, from: readonly BatchStatus[], to: BatchStatus, patch: BatchPatch = {}, now = Math.floor(Date.now() / 1000)): Promise<boolean> {
  const stamp = STATUS_TIMESTAMP[to];
  const changes: [keyof BatchRecord, unknown][] = Object.entries(patch) as [keyof BatchRecord, unknown][];
  if (stamp && !(stamp in patch)) changes.push([stamp, now]);
  const sets = ["status = ?", ...changes.map(([field]) => `${COLUMNS[field]} = ?`)];
  const result = await db
    .prepare(`UPDATE batches SET ${sets.join(", ")} WHERE workspace_id = ? AND id = ? AND status IN (${from.map(() => "?").join(", ")})`)
    .bind(to, ...changes.map(([field, value]) => toColumn(field, value)), batch.workspaceId, batch.id, ...from)
    .run();
  return result.meta.changes > 0;
}

/** Updates fields without a status change (progress counts, runner state). */
export async function updateBatch(db: D1Database, batch: Pick<BatchRecord, "id" | "workspaceId">, patch: BatchPatch): Promise<void> {
  const changes = Object.entries(patch) as [keyof BatchRecord, unknown][];
  if (changes.length === 0) return;
  await db
    .prepare(`UPDATE batches SET ${changes.map(([field]) => `${COLUMNS[field]} = ?`).join(", ")} WHERE workspace_id = ? AND id = ?`)
    .bind(...changes.map(([field, value]) => toColumn(field, value)), batch.workspaceId, batch.id)
    .run();
}
