import type { BatchRecord } from "./schema";

/** A batch in OpenAI's shape (POST/GET /v1/batches). Provider ids and runner state never appear here. */
export function renderOpenAIBatch(batch: BatchRecord) {
  return {
    id: batch.id,
    object: "batch" as const,
    endpoint: batch.endpoint,
    errors: batch.errors ? { object: "list" as const, data: batch.errors } : null,
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status: batch.status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: batch.createdAt,
    in_progress_at: batch.inProgressAt,
    expires_at: batch.expiresAt,
    finalizing_at: batch.finalizingAt,
    completed_at: batch.completedAt,
    failed_at: batch.failedAt,
    expired_at: batch.expiredAt,
    cancelling_at: batch.cancellingAt,
    cancelled_at: batch.cancelledAt,
    request_counts: { total: batch.total, completed: batch.completed, failed: batch.failed },
    metadata: batch.metadata,
    ...(batch.usage
      ? {
          usage: {
            input_tokens: batch.usage.inputTokens,
            input_tokens_details: { cached_tokens: batch.usage.cachedTokens },
            output_tokens: batch.usage.outputTokens,
            output_tokens_details: { reasoning_tokens: batch.usage.reasoningTokens },
            total_tokens: batch.usage.inputTokens + batch.usage.outputTokens,
          },
        }
      : {}),
  };
}

const iso = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

const ENDED = new Set(["completed", "failed", "expired", "cancelled"]);

/** A batch in Anthropic's Message Batches shape; `origin` makes the absolute results_url the SDK follows. */
export function renderAnthropicBatch(batch: BatchRecord, origin: string) {
  const ended = ENDED.has(batch.status);
  const unprocessed = batch.unprocessed;
  const failedRun = batch.status === "failed" && batch.completed + batch.failed === 0;
  return {
    id: batch.id,
    type: "message_batch" as const,
    processing_status: ended ? ("ended" as const) : batch.status === "cancelling" ? ("canceling" as const) : ("in_progress" as const),
    request_counts: {
      processing: ended ? 0 : Math.max(0, batch.total - batch.completed - batch.failed),
      succeeded: batch.completed,
      errored: failedRun ? batch.total : batch.failed - unprocessed,
      canceled: batch.status === "cancelled" ? unprocessed : 0,
      expired: batch.status === "expired" || batch.status === "completed" ? unprocessed : 0,
    },
    ended_at: iso(batch.completedAt ?? batch.cancelledAt ?? batch.expiredAt ?? batch.failedAt),
    created_at: iso(batch.createdAt)!,
    expires_at: iso(batch.expiresAt)!,
    cancel_initiated_at: iso(batch.cancellingAt),
    archived_at: null,
    results_url: ended && !failedRun ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
  };
}
