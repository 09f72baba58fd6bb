import * as z from "zod";
import { BatchEndpointSchema } from "../files/batch-lines";
import { BATCH_MODES } from "../routing/schema";

/**
 * A batch as the gateway keeps it (D1 `batches`), whichever runner drives it and whichever API created it.
 * Statuses are OpenAI's; the Anthropic API renders them as its processing_status (src/batches/render.ts).
 */

export const BATCH_STATUSES = ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"] as const;
export const BatchStatusSchema = z.enum(BATCH_STATUSES);
export type BatchStatus = z.infer<typeof BatchStatusSchema>;

/** Statuses a batch never leaves. */
export const FINAL_STATUSES: readonly BatchStatus[] = ["failed", "completed", "expired", "cancelled"];
export const isFinal = (status: BatchStatus) => FINAL_STATUSES.includes(status);

/** OpenAI's only completion window; the gateway expires a batch the provider has not finished by then. */
export const COMPLETION_WINDOW_SECONDS = 24 * 60 * 60;

export const BatchErrorSchema = z.object({ code: z.string(), message: z.string(), param: z.string().nullable(), line: z.number().int().nullable() });
export type BatchError = z.infer<typeof BatchErrorSchema>;

export const BatchUsageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), cachedTokens: z.number(), reasoningTokens: z.number() });
export type BatchUsage = z.infer<typeof BatchUsageSchema>;

export const BatchRecordSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  keyId: z.string().nullable(),
  api: z.enum(["openai", "anthropic"]),
  endpoint: BatchEndpointSchema,
  mode: z.enum(BATCH_MODES),
  route: z.string().nullable(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  inputFileId: z.string(),
  completionWindow: z.string(),
  metadata: z.record(z.string(), z.string()).nullable(),
  status: BatchStatusSchema,
  total: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  unprocessed: z.number().int(),
  outputFileId: z.string().nullable(),
  errorFileId: z.string().nullable(),
  errors: z.array(BatchErrorSchema).nullable(),
  usage: BatchUsageSchema.nullable(),
  /** The runner's own state (provider file and batch ids): never rendered, never sent to a client. */
  runnerState: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.number().int(),
  inProgressAt: z.number().int().nullable(),
  expiresAt: z.number().int().nullable(),
  finalizingAt: z.number().int().nullable(),
  completedAt: z.number().int().nullable(),
  failedAt: z.number().int().nullable(),
  expiredAt: z.number().int().nullable(),
  cancellingAt: z.number().int().nullable(),
  cancelledAt: z.number().int().nullable(),
});
export type BatchRecord = z.infer<typeof BatchRecordSchema>;

/** The timestamp column each status sets when a batch enters it. */
export const STATUS_TIMESTAMP: Partial<Record<BatchStatus, keyof BatchRecord>> = {
  in_progress: "inProgressAt",
  finalizing: "finalizingAt",
  completed: "completedAt",
  failed: "failedAt",
  expired: "expiredAt",
  cancelling: "cancellingAt",
  cancelled: "cancelledAt",
};
