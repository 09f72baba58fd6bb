import { app } from "./app";
import { AUDIT_QUEUE_NAME, consumeAuditBatch } from "./audit/consumer";
import { consumeExportBatch } from "./export/consumer";
import { EXPORT_QUEUE_NAME, forwardForExport } from "./export/message";
import { BATCH_LINES_QUEUE } from "./batches/line-messages";
import { consumeBatchLines } from "./batches/line-consumer";
import { consumeUsageBatch } from "./usage/consumer";
import { runRetention } from "./usage/retention";
import { retentionSettingsOf } from "./usage/settings";

export { KeyLimiter } from "../durable-objects/key-limiter";
export { RequestCoalescer } from "../durable-objects/request-coalescer";
export { CircuitBreaker } from "../durable-objects/circuit-breaker";
export { BatchDriver } from "../durable-objects/batch-driver";
export { ResponseStore } from "../durable-objects/response-store";
export { AuthThrottle } from "../durable-objects/auth-throttle";
export { FineTuningDriver } from "../durable-objects/fine-tuning-driver";

/** Exported queue batch handler: picks the consumer by queue name; the lines of gateway-run batches run through the app itself. */
function consumeQueueBatch(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  if (batch.queue === BATCH_LINES_QUEUE) return consumeBatchLines(batch, env, ctx, app.fetch);
  if (batch.queue === AUDIT_QUEUE_NAME) return consumeAuditBatch(batch, env);
  if (batch.queue === EXPORT_QUEUE_NAME) return consumeExportBatch(batch, env);
  return consumeUsageBatch(batch, env, (events) => forwardForExport(env, events));
}

/** One Worker, four queues (wrangler.toml): batch lines, audit entries, exports, and every other batch is usage events. */
export default {
  fetch: app.fetch,
  queue: consumeQueueBatch,
  scheduled: (controller, env, ctx) => ctx.waitUntil(runRetention(env.USAGE_DB, retentionSettingsOf(env), controller.scheduledTime)),
} satisfies ExportedHandler<Env>;
