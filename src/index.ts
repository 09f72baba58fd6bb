import { app } from "./app";
import { consumeUsageBatch } from "./usage/consumer";

export { KeyLimiter } from "../durable-objects/key-limiter";
export { RequestCoalescer } from "../durable-objects/request-coalescer";
export { CircuitBreaker } from "../durable-objects/circuit-breaker";
export { BatchDriver } from "../durable-objects/batch-driver";
export { FineTuningDriver } from "../durable-objects/fine-tuning-driver";

export default {
  fetch: app.fetch,
  queue: consumeUsageBatch,
} satisfies ExportedHandler<Env>;
