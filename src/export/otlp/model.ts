/**
 * The OTLP messages the gateway sends, in their JSON mapping (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
 * lowerCamelCase fields, trace and span ids as hex, 64-bit integers as decimal strings, enums as numbers. Built
 * once and written either as JSON or as protobuf (./protobuf.ts).
 */

export type AnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };
export type KeyValue = { key: string; value: AnyValue };
export type Resource = { attributes: KeyValue[] };
export type InstrumentationScope = { name: string; version: string };

/** opentelemetry.proto.trace.v1.Span.SpanKind */
export const SpanKind = { SERVER: 2, CLIENT: 3 } as const;
/** opentelemetry.proto.trace.v1.Status.StatusCode */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export type Span = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  status: { code: number; message?: string };
};
export type ExportTraceServiceRequest = { resourceSpans: { resource: Resource; scopeSpans: { scope: InstrumentationScope; spans: Span[] }[] }[] };

/** opentelemetry.proto.metrics.v1.AggregationTemporality */
export const AGGREGATION_TEMPORALITY_DELTA = 1;

export type NumberDataPoint = { attributes: KeyValue[]; startTimeUnixNano: string; timeUnixNano: string } & ({ asInt: string } | { asDouble: number });
export type HistogramDataPoint = {
  attributes: KeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: string;
  sum: number;
  bucketCounts: string[];
  explicitBounds: number[];
  min: number;
  max: number;
};
export type Metric = { name: string; description: string; unit: string } & (
  | { sum: { dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean } }
  | { histogram: { dataPoints: HistogramDataPoint[]; aggregationTemporality: number } }
);
export type ExportMetricsServiceRequest = { resourceMetrics: { resource: Resource; scopeMetrics: { scope: InstrumentationScope; metrics: Metric[] }[] }[] };

/** opentelemetry.proto.logs.v1.SeverityNumber */
export const Severity = { INFO: 9, WARN: 13, ERROR: 17 } as const;
export type LogRecord = {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  eventName: string;
  body: AnyValue;
  attributes: KeyValue[];
  traceId?: string;
  spanId?: string;
};
export type ExportLogsServiceRequest = { resourceLogs: { resource: Resource; scopeLogs: { scope: InstrumentationScope; logRecords: LogRecord[] }[] }[] };

/** Attributes from a plain object; `undefined` and `null` values are left out. */
export function attributes(values: Record<string, string | number | boolean | null | undefined>, integers: readonly string[] = []): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    if (typeof value === "string") out.push({ key, value: { stringValue: value } });
    else if (typeof value === "boolean") out.push({ key, value: { boolValue: value } });
    else if (integers.includes(key) || Number.isInteger(value)) out.push({ key, value: { intValue: String(Math.round(value)) } });
    else out.push({ key, value: { doubleValue: value } });
  }
  return out;
}

/** Milliseconds since the epoch (fractions kept to the microsecond) as OTLP's nanoseconds. */
export const unixNanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
