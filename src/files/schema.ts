import * as z from "zod";

/** Purposes a client may upload with; `batch_output` is the gateway's own, for batch results. */
export const UPLOAD_PURPOSES = ["batch", "fine-tune", "user_data", "assistants"] as const;
export const FILE_PURPOSES = [...UPLOAD_PURPOSES, "batch_output"] as const;
export const FilePurposeSchema = z.enum(FILE_PURPOSES);
export type FilePurpose = z.infer<typeof FilePurposeSchema>;

/** A file's record (D1 `files`); its content is the R2 object `fileObjectKey(workspaceId, id)`. */
export const FileRecordSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  filename: z.string(),
  purpose: FilePurposeSchema,
  bytes: z.number().int().nonnegative(),
  createdAt: z.number().int(),
  /** Purpose `batch`: how many request lines it holds. */
  lineCount: z.number().int().nullable(),
});
export type FileRecord = z.infer<typeof FileRecordSchema>;

/** OpenAI's file object. */
export const renderFile = (file: FileRecord) => ({
  id: file.id,
  object: "file" as const,
  bytes: file.bytes,
  created_at: file.createdAt,
  filename: file.filename,
  purpose: file.purpose,
  status: "processed" as const,
  status_details: null,
  expires_at: null,
});
