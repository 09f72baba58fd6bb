import { app } from "./app";
import { AUDIT_QUEUE_NAME, consumeAuditBatch } from "./audit/consumer";
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
  queue: (batch, env) => (batch.queue === AUDIT_QUEUE_NAME ? consumeAuditBatch(batch, env) : consumeUsageBatch(batch, env)),
} satisfies ExportedHandler<Env>;
