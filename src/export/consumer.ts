import { loadWorkspaceConfig } from "../config/store";
import type { GatewayConfig } from "../config/schema";
import type { UsageEvent } from "../usage/event";
import { retryDelaySeconds } from "../lib/queue-retry";
import { insertIntoClickHouse } from "./clickhouse";
import { genAISystemOf } from "./gen-ai";
import { ExportMessageSchema } from "./message";
import { logsRequestOf } from "./otlp/logs";
import { metricsRequestOf } from "./otlp/metrics";
import { attributes } from "./otlp/model";
import { sendOtlp } from "./otlp/send";
import { traceRequestOf, type SpanContext } from "./otlp/traces";
import { exportSettingsOf, secretsOf, type ExportSettings, type Sink } from "./settings";

/** The instrumentation scope of everything the gateway exports. */
const SCOPE = { name: "switchyard", version: "1" };

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

/** Each workspace's config, once per batch, for the GenAI provider names of its providers. */
async function spanContextOf(env: Env, settings: ExportSettings, events: readonly UsageEvent[]): Promise<SpanContext> {
  const configs = new Map<string, GatewayConfig | null>();
  for (const id of new Set(events.map((e) => e.workspaceId))) configs.set(id, await loadWorkspaceConfig(env, id).catch(() => null));
  return {
    resource: { attributes: attributes({ ...settings.otlp.resourceAttributes, "service.name": settings.otlp.serviceName }) },
    scope: SCOPE,
    systemOf: (event, provider) => genAISystemOf(configs.get(event.workspaceId) ?? null, provider),
  };
}

async function exportTo(sink: Sink, events: UsageEvent[], settings: ExportSettings, env: Env): Promise<void> {
  const secrets = secretsOf(settings);
  const { otlp, clickhouse } = settings;
  const target = { otlp_traces: otlp.traces, otlp_metrics: otlp.metrics, otlp_logs: otlp.logs, clickhouse }[sink];
  if (!target) {
    logError("export sink is no longer configured; its events are dropped", { sink, events: events.length });
    return;
  }
  if (sink === "clickhouse" && clickhouse) return insertIntoClickHouse(clickhouse, events, secrets);
  const context = await spanContextOf(env, settings, events);
  if (sink === "otlp_traces" && otlp.traces) return sendOtlp(otlp.traces, otlp.protocol, { kind: "traces", request: await traceRequestOf(events, context) }, secrets);
  if (sink === "otlp_metrics" && otlp.metrics) return sendOtlp(otlp.metrics, otlp.protocol, { kind: "metrics", request: metricsRequestOf(events, context) }, secrets);
  if (sink === "otlp_logs" && otlp.logs) return sendOtlp(otlp.logs, otlp.protocol, { kind: "logs", request: await logsRequestOf(events, context) }, secrets);
}

/**
 * The `switchyard-export` Queue consumer: each sink's messages in the batch go out in one request (one OTLP
 * export or one ClickHouse INSERT). A sink that fails has its messages retried with backoff — after `max_retries`
 * they land in `switchyard-export-dlq` — while the other sinks' messages are acknowledged. A sink no longer
 * configured drops its messages (logged).
 */
export async function consumeExportBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  let settings: ExportSettings;
  try {
    settings = exportSettingsOf(env);
  } catch (error) {
    logError("export settings are invalid; retrying the batch", { error: error instanceof Error ? error.message : String(error) });
    for (const message of batch.messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  const bySink = new Map<Sink, { messages: Message<unknown>[]; events: UsageEvent[] }>();
  for (const message of batch.messages) {
    const parsed = ExportMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      logError("export message is not valid", { messageId: message.id, issue: parsed.error.issues[0]?.message });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      continue;
    }
    const group = bySink.get(parsed.data.sink) ?? { messages: [], events: [] };
    group.messages.push(message);
    group.events.push(...parsed.data.events);
    bySink.set(parsed.data.sink, group);
  }
  await Promise.all(
    [...bySink].map(async ([sink, { messages, events }]) => {
      try {
        await exportTo(sink, events, settings, env);
        for (const message of messages) message.ack();
      } catch (error) {
        logError("export failed; retrying through the queue", { sink, events: events.length, attempts: messages[0]?.attempts, error: error instanceof Error ? error.message : String(error) });
        for (const message of messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}
