import * as z from "zod";
import { D1RecordTable } from "../lib/d1-table";
import { randomId } from "../lib/ids";
import { JobEventSchema, JobRecordSchema, type JobEvent, type JobRecord, type JobStatus } from "../schema/fine-tuning";

/**
 * Fine-tuning records in D1 (migrations/0007): jobs, their events, and the registry of tuned models by workspace.
 * Reads are scoped to a workspace; status changes are compare-and-set on the current status, so a cancel and a
 * poll never overwrite each other.
 */

export const newJobId = () => randomId("ftjob-", 24);

const jobs = new D1RecordTable({
  table: "fine_tuning_jobs",
  schema: JobRecordSchema,
  columns: {
    id: "id",
    workspaceId: "workspace_id",
    keyId: "key_id",
    provider: "provider",
    providerType: "provider_type",
    model: "model",
    baseModel: "base_model",
    trainingFile: "training_file",
    validationFile: "validation_file",
    method: "method",
    suffix: "suffix",
    seed: "seed",
    metadata: "metadata",
    status: "status",
    fineTunedModel: "fine_tuned_model",
    trainedTokens: "trained_tokens",
    error: "error",
    checkpoints: "checkpoints",
    runnerState: "runner_state",
    cancelRequested: "cancel_requested",
    createdAt: "created_at",
    finishedAt: "finished_at",
    estimatedFinish: "estimated_finish",
  },
  json: ["method", "metadata", "error", "checkpoints", "runnerState"],
  booleans: ["cancelRequested"],
});

export const insertJob = (db: D1Database, job: JobRecord) => jobs.insert(db, job).run();

export async function findJob(db: D1Database, workspaceId: string, jobId: string): Promise<JobRecord | null> {
  const row = await db.prepare("SELECT * FROM fine_tuning_jobs WHERE workspace_id = ? AND id = ?").bind(workspaceId, jobId).first<Record<string, unknown>>();
  return row ? jobs.recordOf(row) : null;
}

/** Newest first; `after` is the last id of the previous page. */
export async function listJobs(db: D1Database, workspaceId: string, query: { limit: number; after?: string | undefined; metadata?: Record<string, string> | undefined }): Promise<{ jobs: JobRecord[]; hasMore: boolean }> {
  const params: unknown[] = [workspaceId];
  let where = "workspace_id = ?";
  if (query.after !== undefined) {
    where += " AND (created_at, rowid) < (SELECT created_at, rowid FROM fine_tuning_jobs WHERE workspace_id = ? AND id = ?)";
    params.push(workspaceId, query.after);
  }
  for (const [key, value] of Object.entries(query.metadata ?? {})) {
    where += " AND json_extract(metadata, ?) = ?";
    params.push(`$."${key.replace(/"/g, '""')}"`, value);
  }
  const rows = await db.prepare(`SELECT * FROM fine_tuning_jobs WHERE ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`).bind(...params, query.limit + 1).all<Record<string, unknown>>();
  const found = rows.results.map((row) => jobs.recordOf(row));
  return { jobs: found.slice(0, query.limit), hasMore: found.length > query.limit };
}

export type JobPatch = Partial<Omit<JobRecord, "id" | "workspaceId" | "status">>;
type JobRef = Pick<JobRecord, "id" | "workspaceId">;

/** Moves a job from one of `from` to `to` with `patch`; false when it was no longer in one of `from`. */
export async function transition(db: D1Database, job: JobRef, from: readonly JobStatus[], to: JobStatus, patch: JobPatch = {}): Promise<boolean> {
  const set = jobs.assignments(patch);
  const result = await db
    .prepare(`UPDATE fine_tuning_jobs SET ${["status = ?", ...set.sql].join(", ")} WHERE workspace_id = ? AND id = ? AND status IN (${from.map(() => "?").join(", ")})`)
    .bind(to, ...set.values, job.workspaceId, job.id, ...from)
    .run();
  return result.meta.changes > 0;
}

/** Updates fields without a status change (runner state, checkpoints, estimates). */
export async function updateJob(db: D1Database, job: JobRef, patch: JobPatch): Promise<void> {
  const set = jobs.assignments(patch);
  if (set.sql.length === 0) return;
  await db.prepare(`UPDATE fine_tuning_jobs SET ${set.sql.join(", ")} WHERE workspace_id = ? AND id = ?`).bind(...set.values, job.workspaceId, job.id).run();
}

const EventRowSchema = z.object({ id: z.string(), created_at: z.number(), level: z.string(), type: z.string(), message: z.string(), data: z.string().nullable() });

/**
 * Records events; an event whose id is already there is skipped, so a poll repeated after a crash adds nothing.
 * Ids are derived from the job and the event's source (`eventId`).
 */
export async function addEvents(db: D1Database, job: JobRef, events: readonly JobEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.batch(
    events.map((event) =>
      db
        .prepare("INSERT INTO fine_tuning_events (id, job_id, workspace_id, created_at, level, type, message, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")
        .bind(event.id, job.id, job.workspaceId, event.createdAt, event.level, event.type, event.message, event.data === null || event.data === undefined ? null : JSON.stringify(event.data)),
    ),
  );
}

/** A stable event id: the same source (a status change, a provider event id) always makes the same id. */
export async function eventId(jobId: string, source: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${jobId}\n${source}`)));
  return `ftevent-${[...digest.subarray(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A job's events, newest first; `after` is the last id of the previous page. */
export async function listEvents(db: D1Database, job: JobRef, query: { limit: number; after?: string | undefined }): Promise<{ events: JobEvent[]; hasMore: boolean }> {
  const params: unknown[] = [job.workspaceId, job.id];
  let where = "workspace_id = ? AND job_id = ?";
  if (query.after !== undefined) {
    where += " AND (created_at, rowid) < (SELECT created_at, rowid FROM fine_tuning_events WHERE workspace_id = ? AND id = ?)";
    params.push(job.workspaceId, query.after);
  }
  const rows = await db.prepare(`SELECT * FROM fine_tuning_events WHERE ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`).bind(...params, query.limit + 1).all();
  const events = rows.results.map((row) => {
    const r = EventRowSchema.parse(row);
    return JobEventSchema.parse({ id: r.id, createdAt: r.created_at, level: r.level, type: r.type, message: r.message, data: r.data === null ? null : (JSON.parse(r.data) as unknown) });
  });
  return { events: events.slice(0, query.limit), hasMore: events.length > query.limit };
}

/** A tuned model and the workspace that made it. */
export const TunedModelSchema = z.object({ providerType: z.string(), model: z.string(), workspaceId: z.string(), jobId: z.string(), baseModel: z.string() });
export type TunedModel = z.infer<typeof TunedModelSchema>;

/** Registers a tuned model for its workspace; registering it again (a repeated step) changes nothing. */
export async function registerTunedModel(db: D1Database, tuned: TunedModel): Promise<void> {
  await db
    .prepare("INSERT INTO fine_tuned_models (provider_type, model, workspace_id, job_id, base_model, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider_type, model) DO NOTHING")
    .bind(tuned.providerType, tuned.model, tuned.workspaceId, tuned.jobId, tuned.baseModel, Math.floor(Date.now() / 1000))
    .run();
}

export async function findTunedModel(db: D1Database, providerType: string, model: string): Promise<TunedModel | null> {
  const row = await db.prepare("SELECT provider_type, model, workspace_id, job_id, base_model FROM fine_tuned_models WHERE provider_type = ? AND model = ?").bind(providerType, model).first<Record<string, unknown>>();
  return row ? TunedModelSchema.parse({ providerType: row.provider_type, model: row.model, workspaceId: row.workspace_id, jobId: row.job_id, baseModel: row.base_model }) : null;
}
