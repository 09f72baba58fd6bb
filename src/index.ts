import { app } from "./app";

export { KeyLimiter } from "../durable-objects/key-limiter";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
