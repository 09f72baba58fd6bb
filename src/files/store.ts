import * as z from "zod";
import { GatewayError, badRequest } from "../lib/errors";
import { randomId } from "../lib/ids";
import { FileRecordSchema, type FilePurpose, type FileRecord } from "./schema";

/**
 * The file store: records in D1 (`files`, migrations/0004), content in R2 (`FILES`). Every read is scoped to a
 * workspace, so a file of another workspace does not exist for the caller (404), whatever its id.
 * Batches (src/batches/) and fine-tuning read files through `requireFile` and `openFileContent`.
 */

export const newFileId = () => randomId("file-", 24);

/** The R2 key of a file's content: per workspace, so even a leaked id cannot address another workspace's object. */
export const fileObjectKey = (workspaceId: string, fileId: string) => `files/${workspaceId}/${fileId}`;

const RowSchema = z.object({
  id: z.string(),
  workspace_id: z.string(),
  filename: z.string(),
  purpose: z.string(),
  bytes: z.number(),
  created_at: z.number(),
  line_count: z.number().nullable(),
});

const recordOf = (row: unknown): FileRecord => {
  const r = RowSchema.parse(row);
  return FileRecordSchema.parse({ id: r.id, workspaceId: r.workspace_id, filename: r.filename, purpose: r.purpose, bytes: r.bytes, createdAt: r.created_at, lineCount: r.line_count });
};

export async function insertFileRecord(db: D1Database, file: FileRecord): Promise<void> {
  await db
    .prepare("INSERT INTO files (id, workspace_id, filename, purpose, bytes, created_at, line_count) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(file.id, file.workspaceId, file.filename, file.purpose, file.bytes, file.createdAt, file.lineCount)
    .run();
}

export async function findFile(env: Env, workspaceId: string, fileId: string): Promise<FileRecord | null> {
  const row = await env.USAGE_DB.prepare("SELECT * FROM files WHERE workspace_id = ? AND id = ?").bind(workspaceId, fileId).first();
  return row ? recordOf(row) : null;
}

export const fileNotFound = (fileId: string, param: string | null = null) =>
  new GatewayError({ status: 404, type: "invalid_request_error", code: "file_not_found", param, message: `No such File object: ${fileId}` });

/**
 * The workspace's file, or a 404 (also for another workspace's file). With `purpose`, a file of another purpose
 * is a 400 naming `param`.
 */
export async function requireFile(env: Env, workspaceId: string, fileId: string, options: { purpose?: FilePurpose; param?: string } = {}): Promise<FileRecord> {
  const file = await findFile(env, workspaceId, fileId);
  if (!file) throw fileNotFound(fileId, options.param ?? null);
  if (options.purpose && file.purpose !== options.purpose) {
    throw badRequest(`File ${fileId} has purpose "${file.purpose}"; this needs a file uploaded with purpose "${options.purpose}".`, options.param ?? "purpose", "invalid_file_purpose");
  }
  return file;
}

/** The file's content as a stream from R2 (never read whole). */
export async function openFileContent(env: Env, file: FileRecord): Promise<ReadableStream<Uint8Array>> {
  const object = await env.FILES.get(fileObjectKey(file.workspaceId, file.id));
  if (!object) throw new GatewayError({ status: 500, type: "api_error", code: "file_content_missing", message: `The content of file ${file.id} is missing from storage.` });
  return object.body;
}

export type FileListQuery = { purpose?: string | undefined; limit: number; after?: string | undefined; order: "asc" | "desc" };

/** A page of the workspace's files, newest first by default; `after` is the last id of the previous page. */
export async function listFiles(env: Env, workspaceId: string, query: FileListQuery): Promise<{ files: FileRecord[]; hasMore: boolean }> {
  const params: (string | number)[] = [workspaceId];
  let where = "workspace_id = ?";
  if (query.purpose !== undefined) {
    where += " AND purpose = ?";
    params.push(query.purpose);
  }
  const direction = query.order === "asc" ? "ASC" : "DESC";
  if (query.after !== undefined) {
    where += ` AND (created_at, rowid) ${query.order === "asc" ? ">" : "<"} (SELECT created_at, rowid FROM files WHERE workspace_id = ? AND id = ?)`;
    params.push(workspaceId, query.after);
  }
  const rows = await env.USAGE_DB.prepare(`SELECT * FROM files WHERE ${where} ORDER BY created_at ${direction}, rowid ${direction} LIMIT ?`)
    .bind(...params, query.limit + 1)
    .all();
  const files = rows.results.map(recordOf);
  return { files: files.slice(0, query.limit), hasMore: files.length > query.limit };
}

/** Deletes the record first (the file is gone for every reader at once), then the content. */
export async function deleteFile(env: Env, workspaceId: string, fileId: string): Promise<boolean> {
  const result = await env.USAGE_DB.prepare("DELETE FROM files WHERE workspace_id = ? AND id = ?").bind(workspaceId, fileId).run();
  if (result.meta.changes === 0) return false;
  await env.FILES.delete(fileObjectKey(workspaceId, fileId));
  return true;
}
