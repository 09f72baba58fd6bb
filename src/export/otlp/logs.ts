import type { UsageEvent } from "../../usage/event";
import { idsOf } from "./ids";
import { Severity, attributes, unixNanos, type ExportLogsServiceRequest, type LogRecord } from "./model";
import type { SpanContext } from "./traces";

/**
 * Usage events as OTLP log records (OTEL_LOGS_EXPORTER=otlp): the raw-event export for a logs pipeline. The body
 * is the whole event as JSON (the same fields as the D1 row; prompts and completions only where the workspace
 * turned on body logging); the attributes repeat the ones to filter on, and the trace and span ids tie each
 * record to its request span.
 */
export async function logsRequestOf(events: readonly UsageEvent[], context: SpanContext, now = Date.now()): Promise<ExportLogsServiceRequest> {
  const logRecords: LogRecord[] = [];
  for (const event of events) {
    const ids = await idsOf(event);
    const error = event.outcome === "error";
    logRecords.push({
      timeUnixNano: unixNanos(Date.parse(event.time)),
      observedTimeUnixNano: unixNanos(now),
      severityNumber: error ? Severity.ERROR : Severity.INFO,
      severityText: error ? "ERROR" : "INFO",
      eventName: "switchyard.usage",
      body: { stringValue: JSON.stringify(event) },
      attributes: attributes({
        "switchyard.request.id": event.requestId,
        "switchyard.workspace.id": event.workspaceId,
        "switchyard.key.id": event.keyId ?? undefined,
        "switchyard.route": event.route ?? undefined,
        "switchyard.provider": event.answeredBy?.provider,
        "gen_ai.response.model": event.answeredBy?.model,
        "http.response.status_code": event.status,
        "switchyard.outcome": event.outcome,
      }),
      traceId: ids.traceId,
      spanId: ids.requestSpanId,
    });
  }
  return { resourceLogs: [{ resource: context.resource, scopeLogs: [{ scope: context.scope, logRecords }] }] };
}
