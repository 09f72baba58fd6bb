import { app } from "./app";
import { AUDIT_QUEUE_NAME, consumeAuditBatch } from "./audit/consumer";
import { BATCH_LINES_QUEUE } from "./batches/line-messages";
import { consumeBatchLines } from "./batches/line-consumer";
import { consumeUsageBatch } from "./usage/consumer";

export { KeyLimiter } from "../durable-objects/key-limiter";
export { RequestCoalescer } from "../durable-objects/request-coalescer";
export { CircuitBreaker } from "../durable-objects/circuit-breaker";
export { BatchDriver } from "../durable-objects/batch-driver";
export { ResponseStore } from "../durable-objects/response-store";
export { AuthThrottle } from "../durable-objects/auth-throttle";
export { FineTuningDriver } from "../durable-objects/fine-tuning-driver";

export default {
  fetch: app.fetch,
  // Three queues: audit entries and usage events into D1, and the lines of gateway-run batches through the app itself.
  queue: (batch, env, ctx) =>
    batch.queue === BATCH_LINES_QUEUE ? consumeBatchLines(batch, env, ctx, app.fetch) : batch.queue === AUDIT_QUEUE_NAME ? consumeAuditBatch(batch, env) : consumeUsageBatch(batch, env),
} satisfies ExportedHandler<Env>;
