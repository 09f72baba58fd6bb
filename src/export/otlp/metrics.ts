import type { UsageEvent } from "../../usage/event";
import { AGGREGATION_TEMPORALITY_DELTA, attributes, unixNanos, type ExportMetricsServiceRequest, type HistogramDataPoint, type KeyValue, type Metric, type NumberDataPoint } from "./model";
import type { SpanContext } from "./traces";

/**
 * Metrics of a batch of usage events, as delta sums and histograms per workspace, provider, model, operation and
 * status: requests, tokens (input / output), cost, request duration and — for streams — time to first token.
 * Delta temporality: each export carries only its own events (the consumer keeps no state between batches);
 * a backend that wants cumulative series converts them (the Collector's `deltatocumulative` processor).
 */

/** The GenAI semantic conventions' advised bucket boundaries (seconds). */
export const DURATION_BOUNDS_S = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
export const TTFT_BOUNDS_S = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

class Histogram {
  readonly counts: number[];
  sum = 0;
  min = Infinity;
  max = -Infinity;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  record(value: number): void {
    // OpenTelemetry buckets are (previous bound, bound]: upper bounds inclusive.
    let i = this.bounds.findIndex((bound) => value <= bound);
    if (i === -1) i = this.bounds.length;
    this.counts[i]! += 1;
    this.sum += value;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
  }
  get count(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }
}

type Series = {
  attributes: KeyValue[];
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  priced: boolean;
  duration: Histogram;
  ttft: Histogram;
};

export function metricsRequestOf(events: readonly UsageEvent[], context: SpanContext, now = Date.now()): ExportMetricsServiceRequest {
  const series = new Map<string, Series>();
  let start = now;
  for (const event of events) {
    start = Math.min(start, Date.parse(event.time));
    const provider = event.answeredBy?.provider ?? event.attempts.at(-1)?.provider;
    const system = context.systemOf(event, provider);
    const values = {
      "switchyard.workspace.id": event.workspaceId,
      "switchyard.provider": provider ?? "(none)",
      "gen_ai.system": system?.system,
      "gen_ai.provider.name": system?.providerName,
      "gen_ai.operation.name": event.operation,
      "gen_ai.response.model": event.answeredBy?.model ?? "(none)",
      "http.response.status_code": event.status,
    };
    const key = JSON.stringify(values);
    let s = series.get(key);
    if (!s) {
      s = { attributes: attributes(values), requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, priced: false, duration: new Histogram(DURATION_BOUNDS_S), ttft: new Histogram(TTFT_BOUNDS_S) };
      series.set(key, s);
    }
    s.requests += 1;
    s.inputTokens += event.usage.promptTokens;
    s.outputTokens += event.usage.completionTokens;
    if (event.costUsd !== null) {
      s.costUsd += event.costUsd;
      s.priced = true;
    }
    s.duration.record(event.totalMs / 1000);
    if (event.stream && event.ttfbMs !== null) s.ttft.record(event.ttfbMs / 1000);
  }
  const window = { startTimeUnixNano: unixNanos(start), timeUnixNano: unixNanos(Math.max(now, start)) };
  const all = [...series.values()];
  const counter = (pick: (s: Series) => number, extra: KeyValue[] = []): NumberDataPoint[] =>
    all.map((s) => ({ attributes: [...s.attributes, ...extra], ...window, asInt: String(pick(s)) }));
  const histogram = (pick: (s: Series) => Histogram): HistogramDataPoint[] =>
    all
      .filter((s) => pick(s).count > 0)
      .map((s) => {
        const h = pick(s);
        return { attributes: s.attributes, ...window, count: String(h.count), sum: h.sum, bucketCounts: h.counts.map(String), explicitBounds: [...h.bounds], min: h.min, max: h.max };
      });
  const sum = (name: string, description: string, unit: string, dataPoints: NumberDataPoint[]): Metric => ({ name, description, unit, sum: { dataPoints, aggregationTemporality: AGGREGATION_TEMPORALITY_DELTA, isMonotonic: true } });
  const metrics: Metric[] = [
    sum("switchyard.requests", "Requests served through the gateway", "{request}", counter((s) => s.requests)),
    sum("switchyard.tokens", "Tokens accounted, by gen_ai.token.type", "{token}", [
      ...counter((s) => s.inputTokens, [{ key: "gen_ai.token.type", value: { stringValue: "input" } }]),
      ...counter((s) => s.outputTokens, [{ key: "gen_ai.token.type", value: { stringValue: "output" } }]),
    ]),
    sum("switchyard.cost", "Cost of priced requests", "USD", all.filter((s) => s.priced).map((s) => ({ attributes: s.attributes, ...window, asDouble: s.costUsd }))),
    { name: "gen_ai.server.request.duration", description: "Request duration as the client saw it", unit: "s", histogram: { dataPoints: histogram((s) => s.duration), aggregationTemporality: AGGREGATION_TEMPORALITY_DELTA } },
    { name: "gen_ai.server.time_to_first_token", description: "Streams: time to the first byte of the answer", unit: "s", histogram: { dataPoints: histogram((s) => s.ttft), aggregationTemporality: AGGREGATION_TEMPORALITY_DELTA } },
  ];
  return { resourceMetrics: [{ resource: context.resource, scopeMetrics: [{ scope: context.scope, metrics }] }] };
}
