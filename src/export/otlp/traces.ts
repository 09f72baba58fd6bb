import type { UsageEvent } from "../../usage/event";
import type { GenAISystem } from "../gen-ai";
import { idsOf } from "./ids";
import { SpanKind, StatusCode, attributes, unixNanos, type ExportTraceServiceRequest, type InstrumentationScope, type KeyValue, type Resource, type Span } from "./model";

/**
 * Spans of usage events, built in the export consumer after the fact: one SERVER span per request and one
 * CLIENT span per upstream attempt under it, with the GenAI semantic conventions' attributes. A request whose
 * client sent an unsampled `traceparent` is not exported (parent-based sampling); every other one is.
 */

export type SpanContext = { resource: Resource; scope: InstrumentationScope; systemOf: (event: UsageEvent, provider: string | undefined) => GenAISystem | undefined };

const operationName = (event: UsageEvent) => event.operation;

/** What the client asked for: the route name, else the first target's model. */
const requestedModel = (event: UsageEvent): string | undefined => event.route ?? event.attempts[0]?.model ?? event.answeredBy?.model;

function genAI(system: GenAISystem | undefined): Record<string, string | undefined> {
  return { "gen_ai.system": system?.system, "gen_ai.provider.name": system?.providerName };
}

function metadataAttributes(event: UsageEvent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.metadata)) out[`switchyard.metadata.${key}`] = value;
  return out;
}

function requestSpan(event: UsageEvent, ids: { traceId: string; spanId: string }, context: SpanContext): Span {
  const start = Date.parse(event.time);
  const answered = event.answeredBy;
  const attrs: KeyValue[] = attributes({
    "gen_ai.operation.name": operationName(event),
    ...genAI(context.systemOf(event, answered?.provider ?? event.attempts[0]?.provider)),
    "gen_ai.request.model": requestedModel(event),
    "gen_ai.response.model": answered?.model,
    "gen_ai.usage.input_tokens": event.usage.promptTokens,
    "gen_ai.usage.output_tokens": event.usage.completionTokens,
    "http.response.status_code": event.status,
    "error.type": event.outcome === "error" ? (event.errorType ?? "error") : undefined,
    "switchyard.request.id": event.requestId,
    "switchyard.client_request.id": event.clientRequestId ?? undefined,
    "switchyard.workspace.id": event.workspaceId,
    "switchyard.key.id": event.keyId ?? undefined,
    "switchyard.route": event.route ?? undefined,
    "switchyard.provider": answered?.provider,
    "switchyard.cache.status": event.cacheStatus ?? undefined,
    "switchyard.outcome": event.outcome,
    "switchyard.attempts": event.attempts.length,
    "switchyard.rescued": event.rescued,
    "switchyard.stream": event.stream,
    "switchyard.cost_usd": event.costUsd ?? undefined,
    "switchyard.time_to_first_byte_ms": event.ttfbMs ?? undefined,
    "switchyard.overhead_ms": event.overheadMs,
    "user.id": event.user ?? undefined,
    ...metadataAttributes(event),
  }, ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "http.response.status_code", "switchyard.attempts"]);
  return {
    traceId: ids.traceId,
    spanId: ids.spanId,
    ...(event.trace ? { parentSpanId: event.trace.parentSpanId } : {}),
    name: `${operationName(event)} ${requestedModel(event) ?? ""}`.trim(),
    kind: SpanKind.SERVER,
    startTimeUnixNano: unixNanos(start),
    endTimeUnixNano: unixNanos(start + event.totalMs),
    attributes: attrs,
    status: event.outcome === "error" ? { code: StatusCode.ERROR, message: event.errorType ?? "error" } : { code: StatusCode.UNSET },
  };
}

function attemptSpans(event: UsageEvent, ids: { traceId: string; parent: string; spanIds: string[] }, context: SpanContext): Span[] {
  const requestStart = Date.parse(event.time);
  let cursor = 0;
  return event.attempts.map((attempt, i) => {
    // Events queued before attempts carried their start: attempts are laid end to end.
    const startMs = attempt.startMs ?? cursor;
    cursor = startMs + attempt.latencyMs;
    const answered = attempt.outcome === "success";
    const failed = !answered && attempt.outcome !== "skipped";
    return {
      traceId: ids.traceId,
      spanId: ids.spanIds[i]!,
      parentSpanId: ids.parent,
      name: `${operationName(event)} ${attempt.model}`,
      kind: SpanKind.CLIENT,
      startTimeUnixNano: unixNanos(requestStart + startMs),
      endTimeUnixNano: unixNanos(requestStart + startMs + attempt.latencyMs),
      attributes: attributes({
        "gen_ai.operation.name": operationName(event),
        ...genAI(context.systemOf(event, attempt.provider)),
        "gen_ai.request.model": attempt.model,
        "gen_ai.response.model": answered ? event.answeredBy?.model : undefined,
        "gen_ai.usage.input_tokens": answered ? event.usage.promptTokens : undefined,
        "gen_ai.usage.output_tokens": answered ? event.usage.completionTokens : undefined,
        "http.response.status_code": attempt.status ?? undefined,
        "error.type": failed ? (attempt.errorClass ?? attempt.outcome) : undefined,
        "switchyard.provider": attempt.provider,
        "switchyard.attempt.number": i + 1,
        "switchyard.attempt.outcome": attempt.outcome,
      }, ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "http.response.status_code", "switchyard.attempt.number"]),
      status: failed ? { code: StatusCode.ERROR, message: attempt.errorClass ?? attempt.outcome } : { code: StatusCode.UNSET },
    };
  });
}

/** The spans of these events in one export request; events of unsampled traces are left out. */
export async function traceRequestOf(events: readonly UsageEvent[], context: SpanContext): Promise<ExportTraceServiceRequest> {
  const spans: Span[] = [];
  for (const event of events) {
    if (event.trace && !event.trace.sampled) continue;
    const ids = await idsOf(event);
    spans.push(requestSpan(event, { traceId: ids.traceId, spanId: ids.requestSpanId }, context));
    spans.push(...attemptSpans(event, { traceId: ids.traceId, parent: ids.requestSpanId, spanIds: ids.attemptSpanIds }, context));
  }
  return { resourceSpans: [{ resource: context.resource, scopeSpans: [{ scope: context.scope, spans }] }] };
}
