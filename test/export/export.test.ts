import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { UsageEventSchema, type UsageEvent } from "../../src/usage/event";
import { TEST_CLICKHOUSE_CREDENTIALS, TEST_OTLP_HEADERS } from "../fixtures";
import { callGateway, newWorkspace, scriptFaults, simulatorOrigin, simulatorProviders } from "../helpers";
import { documentedColumnNames } from "./columns";

/**
 * Exports, end to end: requests through the gateway → usage queue → D1 → export queue → the simulators' OTLP
 * receiver (which decodes with the OpenTelemetry project's protobuf definitions) and ClickHouse HTTP interface.
 * vitest.config.ts points every export setting at them (test/fixtures.ts, testExportSettings).
 */

type AnyValue = { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };
type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes: KeyValue[]; status?: { code?: number } };
type Export = { contentType: string; headers: Record<string, string>; request: Record<string, unknown> };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function exportsOf(signal: "traces" | "metrics" | "logs"): Promise<Export[]> {
  return ((await (await fetch(`${simulatorOrigin()}/_control/otlp/${signal}`)).json()) as { exports: Export[] }).exports;
}

/** Polls until `pick` finds what it needs (or 20 s pass, and the test's own expectations fail). */
async function eventually<T>(pick: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = await pick();
    if (found !== undefined || Date.now() > deadline) return found as T;
    await sleep(200);
  }
}

const attr = (attributes: KeyValue[] | undefined, key: string): string | number | boolean | undefined => {
  const value = attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue;
};

type ResourceSpans = { resource: { attributes: KeyValue[] }; scopeSpans: { scope: { name: string }; spans: Span[] }[] };
function spansOf(exports: Export[]): { span: Span; resource: KeyValue[]; exported: Export }[] {
  return exports.flatMap((exported) =>
    ((exported.request.resourceSpans ?? []) as ResourceSpans[]).flatMap((rs) => rs.scopeSpans.flatMap((ss) => (ss.spans ?? []).map((span) => ({ span, resource: rs.resource.attributes, exported })))),
  );
}

const fallbackWorkspace = () =>
  newWorkspace((scenario) => ({
    providers: simulatorProviders(scenario),
    routes: { smart: { strategy: "fallback", targets: [{ provider: "openai", model: "gpt-4o-mini" }, { provider: "anthropic", model: "claude-sonnet-4-5" }] } },
  }));

const randomHex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("OpenTelemetry traces", () => {
  it("exports a span per request with a child per upstream attempt, GenAI attributes, in the client's trace", async () => {
    const ws = await fallbackWorkspace();
    await scriptFaults(ws.scenario, [{ status: 500 }]);
    const traceId = randomHex(16);
    const parentSpanId = randomHex(8);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "trace me" }], user: "end-user-7" }, {
      traceparent: `00-${traceId}-${parentSpanId}-01`,
      "x-switchyard-metadata": JSON.stringify({ team: "search" }),
    });
    expect(res.status).toBe(200);
    const { usage } = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };

    const spans = await eventually(async () => {
      const found = spansOf(await exportsOf("traces")).filter((s) => s.span.traceId === traceId);
      return found.length >= 3 ? found : undefined;
    });
    expect(spans).toHaveLength(3);
    const server = spans.find((s) => s.span.kind === 2)!;
    const clients = spans.filter((s) => s.span.kind === 3).map((s) => s.span).sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
    expect(server.span.parentSpanId).toBe(parentSpanId);
    expect(server.span.name).toBe("chat smart");
    const a = server.span.attributes;
    expect(attr(a, "gen_ai.operation.name")).toBe("chat");
    expect(attr(a, "gen_ai.system")).toBe("anthropic");
    expect(attr(a, "gen_ai.provider.name")).toBe("anthropic");
    expect(attr(a, "gen_ai.request.model")).toBe("smart");
    expect(attr(a, "gen_ai.response.model")).toBe("claude-sonnet-4-5");
    expect(attr(a, "gen_ai.usage.input_tokens")).toBe(usage.prompt_tokens);
    expect(attr(a, "gen_ai.usage.output_tokens")).toBe(usage.completion_tokens);
    expect(attr(a, "switchyard.workspace.id")).toBe(ws.id);
    expect(attr(a, "switchyard.key.id")).toBe(ws.keyId);
    expect(attr(a, "switchyard.route")).toBe("smart");
    expect(attr(a, "switchyard.metadata.team")).toBe("search");
    expect(attr(a, "user.id")).toBe("end-user-7");
    expect(attr(a, "http.response.status_code")).toBe(200);

    expect(clients.map((s) => s.parentSpanId)).toEqual([server.span.spanId, server.span.spanId]);
    const [failed, answered] = clients as [Span, Span];
    expect(attr(failed.attributes, "gen_ai.system")).toBe("openai");
    expect(attr(failed.attributes, "gen_ai.request.model")).toBe("gpt-4o-mini");
    expect(attr(failed.attributes, "http.response.status_code")).toBe(500);
    expect(failed.status?.code).toBe(2);
    expect(attr(answered.attributes, "gen_ai.system")).toBe("anthropic");
    expect(attr(answered.attributes, "gen_ai.usage.input_tokens")).toBe(usage.prompt_tokens);
    expect(answered.status?.code ?? 0).toBe(0);
    // Attempts lie inside the request, one after the other.
    expect(BigInt(failed.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(server.span.startTimeUnixNano));
    expect(BigInt(answered.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(failed.endTimeUnixNano));
    expect(BigInt(answered.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(server.span.endTimeUnixNano) + 1_000_000n);

    expect(attr(server.resource, "service.name")).toBe("switchyard");
    expect(attr(server.resource, "deployment.environment.name")).toBe("test");
    expect(server.exported.contentType).toBe("application/x-protobuf");
    expect(server.exported.headers.authorization).toBe(TEST_OTLP_HEADERS.authorization);
    expect(server.exported.headers["x-tenant"]).toBe(TEST_OTLP_HEADERS["x-tenant"]);
  });
});

function usageEvent(overrides: Partial<UsageEvent>): UsageEvent {
  return UsageEventSchema.parse({
    v: 1, requestId: `req_${randomHex(8)}`, clientRequestId: null, time: new Date().toISOString(), workspaceId: "ws-direct", keyId: "key_1", route: null, operation: "chat",
    attempts: [{ provider: "openai", model: "gpt-4o-mini", status: 200, outcome: "success", latencyMs: 10, startMs: 1 }], answeredBy: { provider: "openai", model: "gpt-4o-mini" },
    usage: { promptTokens: 10, completionTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, usageEstimated: false, costUsd: 0.00001, cacheStatus: null, savedTokens: 0,
    savedUsd: null, coalesced: false, stream: false, ttfbMs: 12, totalMs: 15, overheadMs: 1, status: 200, outcome: "success", errorType: null, rescued: false, ...overrides,
  });
}

async function deliverExport(body: unknown, environment: Env = env) {
  const batch = createMessageBatch("switchyard-export", [{ id: `msg-${randomHex(4)}`, timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, environment, ctx);
  return getQueueResult(batch, ctx);
}

describe("export consumer", () => {
  it("honours an unsampled traceparent: that request's spans are not exported", async () => {
    const unsampled = usageEvent({ trace: { traceId: randomHex(16), parentSpanId: randomHex(8), sampled: false } });
    const sampled = usageEvent({ trace: { traceId: randomHex(16), parentSpanId: randomHex(8), sampled: true } });
    const result = await deliverExport({ v: 1, sink: "otlp_traces", events: [unsampled, sampled] });
    expect(result.explicitAcks).toHaveLength(1);
    const traceIds = new Set(spansOf(await exportsOf("traces")).map((s) => s.span.traceId));
    expect(traceIds.has(sampled.trace!.traceId)).toBe(true);
    expect(traceIds.has(unsampled.trace!.traceId)).toBe(false);
  });

  it("sends OTLP/JSON when OTEL_EXPORTER_OTLP_PROTOCOL=http/json, decodable into the same messages", async () => {
    const event = usageEvent({ workspaceId: `ws-json-${randomHex(3)}` });
    const result = await deliverExport({ v: 1, sink: "otlp_traces", events: [event] }, { ...env, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    expect(result.retryMessages).toEqual([]);
    const all = spansOf(await exportsOf("traces"));
    const server = all.find((s) => attr(s.span.attributes, "switchyard.request.id") === event.requestId)!;
    const children = all.filter((s) => s.span.parentSpanId === server.span.spanId);
    expect(server.exported.contentType).toBe("application/json");
    expect(server.span.kind).toBe(2);
    expect(server.span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(BigInt(server.span.endTimeUnixNano) - BigInt(server.span.startTimeUnixNano)).toBe(15_000_000n);
    expect(children.map((c) => [c.span.kind, attr(c.span.attributes, "gen_ai.request.model")])).toEqual([[3, "gpt-4o-mini"]]);
  });

  it("retries a sink's messages when its endpoint refuses, and a message that is not an export", async () => {
    const result = await deliverExport({ v: 1, sink: "otlp_traces", events: [usageEvent({})] }, Object.assign({}, env, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${simulatorOrigin()}/otlp/v1/nowhere` }));
    expect(result.retryMessages).toHaveLength(1);
    expect((await deliverExport({ hello: "world" })).retryMessages).toHaveLength(1);
  });
});

type MetricPoint = { attributes: KeyValue[]; asInt?: string; asDouble?: number; count?: string; sum?: number; bucketCounts?: string[] };
type MetricOut = { name: string; unit: string; sum?: { dataPoints: MetricPoint[]; aggregationTemporality: number; isMonotonic?: boolean }; histogram?: { dataPoints: MetricPoint[]; aggregationTemporality: number } };
function metricsOf(exports: Export[]): MetricOut[] {
  return exports.flatMap((e) => ((e.request.resourceMetrics ?? []) as { scopeMetrics: { metrics: MetricOut[] }[] }[]).flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics ?? [])));
}

describe("OpenTelemetry metrics", () => {
  it("exports requests, tokens, cost and latency / time-to-first-token histograms by workspace, provider, model and status", async () => {
    const ws = await newWorkspace();
    let prompt = 0;
    let completion = 0;
    for (const content of ["one", "two two"]) {
      const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content }] });
      const { usage } = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
      prompt += usage.prompt_tokens;
      completion += usage.completion_tokens;
    }
    const streamed = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "stream" }], stream: true, stream_options: { include_usage: true } });
    const streamUsage = JSON.parse((await streamed.text()).split("\n").filter((l) => l.startsWith("data: {") && l.includes('"usage":{')).at(-1)!.slice(6)).usage as { prompt_tokens: number; completion_tokens: number };
    prompt += streamUsage.prompt_tokens;
    completion += streamUsage.completion_tokens;

    const ours = (m: MetricOut) => (m.sum?.dataPoints ?? m.histogram?.dataPoints ?? []).filter((p) => attr(p.attributes, "switchyard.workspace.id") === ws.id);
    const total = (metrics: MetricOut[], name: string, pick: (p: MetricPoint) => number, where: (p: MetricPoint) => boolean = () => true) =>
      metrics.filter((m) => m.name === name).flatMap(ours).filter(where).reduce((sum, p) => sum + pick(p), 0);
    const metrics = await eventually(async () => {
      const all = metricsOf(await exportsOf("metrics"));
      return total(all, "switchyard.requests", (p) => Number(p.asInt)) >= 3 ? all : undefined;
    });
    expect(total(metrics, "switchyard.requests", (p) => Number(p.asInt))).toBe(3);
    const point = metrics.filter((m) => m.name === "switchyard.requests").flatMap(ours)[0]!;
    expect(attr(point.attributes, "gen_ai.system")).toBe("openai");
    expect(attr(point.attributes, "switchyard.provider")).toBe("openai");
    expect(attr(point.attributes, "gen_ai.response.model")).toBe("gpt-4o-mini");
    expect(attr(point.attributes, "http.response.status_code")).toBe(200);
    expect(metrics.find((m) => m.name === "switchyard.requests")!.sum!.aggregationTemporality).toBe(1);
    expect(total(metrics, "switchyard.tokens", (p) => Number(p.asInt), (p) => attr(p.attributes, "gen_ai.token.type") === "input")).toBe(prompt);
    expect(total(metrics, "switchyard.tokens", (p) => Number(p.asInt), (p) => attr(p.attributes, "gen_ai.token.type") === "output")).toBe(completion);
    expect(total(metrics, "switchyard.cost", (p) => p.asDouble ?? 0)).toBeCloseTo((prompt * 0.15 + completion * 0.6) / 1e6, 12);
    expect(total(metrics, "gen_ai.server.request.duration", (p) => Number(p.count))).toBe(3);
    expect(total(metrics, "gen_ai.server.time_to_first_token", (p) => Number(p.count))).toBe(1);
    for (const duration of metrics.filter((m) => m.name === "gen_ai.server.request.duration")) {
      expect(duration.unit).toBe("s");
      for (const p of ours(duration)) expect(p.bucketCounts!.reduce((s, n) => s + Number(n), 0)).toBe(Number(p.count));
    }
  });
});

type LogOut = { attributes: KeyValue[]; body: AnyValue; traceId?: string; spanId?: string; eventName?: string; severityNumber?: number };
type ClickHouseInsert = { user: string; key: string; rows: Record<string, unknown>[] };

describe("raw-event export", () => {
  it("inserts one ClickHouse row per request and retries a failed insert without resending the other sinks", async () => {
    const ws = await newWorkspace();
    await fetch(`${simulatorOrigin()}/_control/clickhouse/failures`, { method: "POST", body: JSON.stringify({ workspaceId: ws.id, times: 1 }) });
    const traceId = randomHex(16);
    for (const content of ["first", "second"]) {
      const res = await callGateway(ws.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content }] }, { "x-switchyard-metadata": JSON.stringify({ team: "ads" }), traceparent: `00-${traceId}-${randomHex(8)}-01` });
      expect(res.status).toBe(200);
    }
    const rowsOf = async () => ((await (await fetch(`${simulatorOrigin()}/_control/clickhouse`)).json()) as { inserts: ClickHouseInsert[] }).inserts.flatMap((i) => i.rows.map((row) => ({ row, insert: i }))).filter((r) => r.row.workspace_id === ws.id);
    const rows = await eventually(async () => ((await rowsOf()).length >= 2 ? rowsOf() : undefined));
    expect(rows).toHaveLength(2);
    const { row, insert } = rows[0]!;
    expect(insert.user).toBe(TEST_CLICKHOUSE_CREDENTIALS.user);
    expect(Object.keys(row).sort()).toEqual([...documentedColumnNames()].sort());
    expect(row).toMatchObject({ key_id: ws.keyId, route: "smart", provider: "openai", model: "gpt-4o-mini", status: 200, outcome: "success", metadata: { team: "ads" }, trace_id: traceId });
    expect(String(row.ts)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);

    // The failed insert was retried; the traces of the same events went out once.
    const serverSpans = spansOf(await exportsOf("traces")).filter((s) => s.span.traceId === traceId && s.span.kind === 2);
    expect(serverSpans).toHaveLength(2);

    // And every event as an OTLP log record, tied to its request span.
    const logs = (await exportsOf("logs")).flatMap((e) => ((e.request.resourceLogs ?? []) as { scopeLogs: { logRecords: LogOut[] }[] }[]).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords ?? [])));
    const ours = logs.filter((l) => attr(l.attributes, "switchyard.workspace.id") === ws.id);
    expect(ours).toHaveLength(2);
    const event = UsageEventSchema.parse(JSON.parse(ours[0]!.body.stringValue!));
    expect(event.metadata).toEqual({ team: "ads" });
    expect(ours[0]!.traceId).toBe(traceId);
    expect(ours[0]!.eventName).toBe("switchyard.usage");
    expect(serverSpans.map((s) => s.span.spanId)).toContain(ours[0]!.spanId);
  });
});
