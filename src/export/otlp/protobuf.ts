import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  HistogramDataPoint,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Metric,
  NumberDataPoint,
  Resource,
  Span,
} from "./model";

/**
 * The OTLP messages of ./model.ts in protobuf, field numbers as in opentelemetry-proto (common/v1, resource/v1,
 * trace/v1, metrics/v1, logs/v1 and their collector services). @bufbuild/protobuf's BinaryWriter does the wire
 * format; this file only maps fields, like generated code would, for the few messages the gateway sends.
 * test/export/otlp.test.ts decodes the output with the OpenTelemetry project's own protobuf definitions.
 */

type Encode<T> = (writer: BinaryWriter, value: T) => void;

const message = <T>(writer: BinaryWriter, field: number, encode: Encode<T>, value: T) => {
  writer.tag(field, WireType.LengthDelimited).fork();
  encode(writer, value);
  writer.join();
};
const string = (writer: BinaryWriter, field: number, value: string | undefined) => {
  if (value) writer.tag(field, WireType.LengthDelimited).string(value);
};
const hexBytes = (writer: BinaryWriter, field: number, hex: string | undefined) => {
  if (!hex) return;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  writer.tag(field, WireType.LengthDelimited).bytes(bytes);
};
const fixed64 = (writer: BinaryWriter, field: number, value: string) => writer.tag(field, WireType.Bit64).fixed64(value);
const enumeration = (writer: BinaryWriter, field: number, value: number) => {
  if (value !== 0) writer.tag(field, WireType.Varint).int32(value);
};
const double = (writer: BinaryWriter, field: number, value: number) => writer.tag(field, WireType.Bit64).double(value);

const anyValue: Encode<AnyValue> = (w, value) => {
  if ("stringValue" in value) w.tag(1, WireType.LengthDelimited).string(value.stringValue);
  else if ("boolValue" in value) w.tag(2, WireType.Varint).bool(value.boolValue);
  else if ("intValue" in value) w.tag(3, WireType.Varint).int64(value.intValue);
  else double(w, 4, value.doubleValue);
};
const keyValue: Encode<KeyValue> = (w, kv) => {
  string(w, 1, kv.key);
  message(w, 2, anyValue, kv.value);
};
const resource: Encode<Resource> = (w, r) => r.attributes.forEach((kv) => message(w, 1, keyValue, kv));
const scope: Encode<InstrumentationScope> = (w, s) => {
  string(w, 1, s.name);
  string(w, 2, s.version);
};

const span: Encode<Span> = (w, s) => {
  hexBytes(w, 1, s.traceId);
  hexBytes(w, 2, s.spanId);
  hexBytes(w, 4, s.parentSpanId);
  string(w, 5, s.name);
  enumeration(w, 6, s.kind);
  fixed64(w, 7, s.startTimeUnixNano);
  fixed64(w, 8, s.endTimeUnixNano);
  s.attributes.forEach((kv) => message(w, 9, keyValue, kv));
  message(w, 15, (sw, status: Span["status"]) => {
    string(sw, 2, status.message);
    enumeration(sw, 3, status.code);
  }, s.status);
};

export function encodeTraces(request: ExportTraceServiceRequest): Uint8Array {
  const w = new BinaryWriter();
  for (const rs of request.resourceSpans) {
    message(w, 1, (rw, value: typeof rs) => {
      message(rw, 1, resource, value.resource);
      for (const ss of value.scopeSpans) {
        message(rw, 2, (sw, v: typeof ss) => {
          message(sw, 1, scope, v.scope);
          v.spans.forEach((s) => message(sw, 2, span, s));
        }, ss);
      }
    }, rs);
  }
  return w.finish();
}

const numberDataPoint: Encode<NumberDataPoint> = (w, p) => {
  fixed64(w, 2, p.startTimeUnixNano);
  fixed64(w, 3, p.timeUnixNano);
  if ("asDouble" in p) double(w, 4, p.asDouble);
  else w.tag(6, WireType.Bit64).sfixed64(p.asInt);
  p.attributes.forEach((kv) => message(w, 7, keyValue, kv));
};
const histogramDataPoint: Encode<HistogramDataPoint> = (w, p) => {
  fixed64(w, 2, p.startTimeUnixNano);
  fixed64(w, 3, p.timeUnixNano);
  fixed64(w, 4, p.count);
  double(w, 5, p.sum);
  w.tag(6, WireType.LengthDelimited).fork();
  p.bucketCounts.forEach((n) => w.fixed64(n));
  w.join();
  w.tag(7, WireType.LengthDelimited).fork();
  p.explicitBounds.forEach((b) => w.double(b));
  w.join();
  p.attributes.forEach((kv) => message(w, 9, keyValue, kv));
  double(w, 11, p.min);
  double(w, 12, p.max);
};
const metric: Encode<Metric> = (w, m) => {
  string(w, 1, m.name);
  string(w, 2, m.description);
  string(w, 3, m.unit);
  if ("sum" in m) {
    message(w, 7, (sw, sum: typeof m.sum) => {
      sum.dataPoints.forEach((p) => message(sw, 1, numberDataPoint, p));
      enumeration(sw, 2, sum.aggregationTemporality);
      if (sum.isMonotonic) sw.tag(3, WireType.Varint).bool(true);
    }, m.sum);
  } else {
    message(w, 9, (hw, histogram: typeof m.histogram) => {
      histogram.dataPoints.forEach((p) => message(hw, 1, histogramDataPoint, p));
      enumeration(hw, 2, histogram.aggregationTemporality);
    }, m.histogram);
  }
};

export function encodeMetrics(request: ExportMetricsServiceRequest): Uint8Array {
  const w = new BinaryWriter();
  for (const rm of request.resourceMetrics) {
    message(w, 1, (rw, value: typeof rm) => {
      message(rw, 1, resource, value.resource);
      for (const sm of value.scopeMetrics) {
        message(rw, 2, (sw, v: typeof sm) => {
          message(sw, 1, scope, v.scope);
          v.metrics.forEach((m) => message(sw, 2, metric, m));
        }, sm);
      }
    }, rm);
  }
  return w.finish();
}

const logRecord: Encode<LogRecord> = (w, r) => {
  fixed64(w, 1, r.timeUnixNano);
  enumeration(w, 2, r.severityNumber);
  string(w, 3, r.severityText);
  message(w, 5, anyValue, r.body);
  r.attributes.forEach((kv) => message(w, 6, keyValue, kv));
  hexBytes(w, 9, r.traceId);
  hexBytes(w, 10, r.spanId);
  fixed64(w, 11, r.observedTimeUnixNano);
  string(w, 12, r.eventName);
};

export function encodeLogs(request: ExportLogsServiceRequest): Uint8Array {
  const w = new BinaryWriter();
  for (const rl of request.resourceLogs) {
    message(w, 1, (rw, value: typeof rl) => {
      message(rw, 1, resource, value.resource);
      for (const sl of value.scopeLogs) {
        message(rw, 2, (sw, v: typeof sl) => {
          message(sw, 1, scope, v.scope);
          v.logRecords.forEach((r) => message(sw, 2, logRecord, r));
        }, sl);
      }
    }, rl);
  }
  return w.finish();
}
