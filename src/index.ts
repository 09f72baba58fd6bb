import { app } from "./app";

export { RequestCoalescer } from "../durable-objects/request-coalescer";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
