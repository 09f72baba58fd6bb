import { app } from "./app";
import { consumeUsageBatch } from "./usage/consumer";

export default {
  fetch: app.fetch,
  queue: consumeUsageBatch,
} satisfies ExportedHandler<Env>;
