import { app } from "./app";

export { CircuitBreaker } from "../durable-objects/circuit-breaker";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
