import { app } from "./app";
import { consumeExportBatch } from "./export/consumer";
import { EXPORT_QUEUE_NAME, forwardForExport } from "./export/message";
import { runRetention } from "./usage/retention";
import { retentionSettingsOf } from "./usage/settings";
import { consumeUsageBatch } from "./usage/consumer";

export { KeyLimiter } from "../durable-objects/key-limiter";
export { RequestCoalescer } from "../durable-objects/request-coalescer";
export { CircuitBreaker } from "../durable-objects/circuit-breaker";

/** One Worker, two queues (wrangler.toml): the export queue's batches go to the exporters, every other batch is usage events. */
export default {
  fetch: app.fetch,
  queue: (batch, env) => (batch.queue === EXPORT_QUEUE_NAME ? consumeExportBatch(batch, env) : consumeUsageBatch(batch, env, (events) => forwardForExport(env, events))),
  scheduled: (controller, env, ctx) => ctx.waitUntil(runRetention(env.USAGE_DB, retentionSettingsOf(env), controller.scheduledTime)),
} satisfies ExportedHandler<Env>;
