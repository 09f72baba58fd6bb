import * as z from "zod";
import { BatchEndpointSchema } from "../files/batch-lines";
import type { LineSpanRef } from "./line-book";
import type { BatchRecord } from "./schema";

/**
 * The batch-lines Queue (`BATCH_QUEUE`, `switchyard-batch-lines` in wrangler.toml): one message per line of a
 * gateway-run batch, sent by its driver and read by the consumer (src/batches/line-consumer.ts). A message names
 * the line by its place in the input file, never carries its text (a line may be megabytes, a message 128 KB).
 */

export const BATCH_LINES_QUEUE = "switchyard-batch-lines";

/** Queues take at most 100 messages per sendBatch. */
const MESSAGES_PER_SEND = 100;
/** Queues delay a message at most 12 hours. */
export const MAX_DELAY_SECONDS = 12 * 60 * 60;

export const BatchLineMessageSchema = z.object({
  v: z.literal(1),
  workspaceId: z.string().min(1),
  batchId: z.string().min(1),
  keyId: z.string().nullable(),
  endpoint: BatchEndpointSchema,
  inputFileId: z.string().min(1),
  /** The batch's completion window ends here (seconds since the epoch): a line deferred past it will not run. */
  expiresAt: z.number().int().nullable(),
  index: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
});
export type BatchLineMessage = z.infer<typeof BatchLineMessageSchema>;

export const lineMessageOf = (batch: BatchRecord, line: LineSpanRef): BatchLineMessage => ({
  v: 1,
  workspaceId: batch.workspaceId,
  batchId: batch.id,
  keyId: batch.keyId,
  endpoint: batch.endpoint,
  inputFileId: batch.inputFileId,
  expiresAt: batch.expiresAt,
  index: line.index,
  offset: line.offset,
  length: line.length,
});

/** Sends line messages in sendBatch-sized groups, visible after `delaySeconds` (0: at once). */
export async function sendLineMessages(queue: Queue, messages: readonly BatchLineMessage[], delaySeconds = 0): Promise<void> {
  const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
  for (let start = 0; start < messages.length; start += MESSAGES_PER_SEND) {
    await queue.sendBatch(messages.slice(start, start + MESSAGES_PER_SEND).map((body) => ({ body, contentType: "json" as const, ...(delay > 0 ? { delaySeconds: delay } : {}) })));
  }
}
