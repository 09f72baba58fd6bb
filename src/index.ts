import { app } from "./app";

export { KeyLimiter } from "../durable-objects/key-limiter";
export { RequestCoalescer } from "../durable-objects/request-coalescer";
export { CircuitBreaker } from "../durable-objects/circuit-breaker";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
