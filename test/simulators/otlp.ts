import { createRequire } from "node:module";
import { Hono } from "hono";

/**
 * An OTLP/HTTP receiver (a collector's `otlphttp` endpoints: /v1/traces, /v1/metrics, /v1/logs) that decodes
 * what arrives with the OpenTelemetry project's own protobuf definitions, as shipped in
 * @opentelemetry/otlp-transformer: protobuf bodies with `decode`, JSON bodies (ids in hex, as OTLP/JSON has
 * them) with `fromObject`, then `verify`. Each export is kept decoded — ids as hex, 64-bit numbers as strings —
 * with the headers it came with, for tests to read back.
 */

type ProtoType = {
  decode(bytes: Uint8Array): unknown;
  verify(object: unknown): string | null;
  fromObject(object: unknown): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
};
type Root = { opentelemetry: { proto: { collector: Record<"trace" | "metrics" | "logs", { v1: Record<string, ProtoType> }> } } };

const require = createRequire(import.meta.url);
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root.js") as Root;
const { collector } = root.opentelemetry.proto;

export const SIGNALS = {
  traces: collector.trace.v1.ExportTraceServiceRequest!,
  metrics: collector.metrics.v1.ExportMetricsServiceRequest!,
  logs: collector.logs.v1.ExportLogsServiceRequest!,
};
export type Signal = keyof typeof SIGNALS;

export type OtlpExport = { signal: Signal; contentType: string; headers: Record<string, string>; request: Record<string, unknown> };

const ID_FIELDS = new Set(["traceId", "spanId", "parentSpanId"]);
const hexToBase64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");
const base64ToHex = (b64: string) => Buffer.from(b64, "base64").toString("hex");

/** OTLP/JSON ids are hex; protobufjs's JSON form wants base64 (and the reverse for reading back). */
function mapIds(value: unknown, convert: (id: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => mapIds(item, convert));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, ID_FIELDS.has(key) && typeof v === "string" ? convert(v) : mapIds(v, convert)]));
}

export class OtlpBook {
  readonly exports: OtlpExport[] = [];
}

export function otlpReceiver(book: OtlpBook): Hono {
  const app = new Hono();
  app.post("/v1/:signal", async (c) => {
    const signal = c.req.param("signal") as Signal;
    const type = SIGNALS[signal];
    if (!type) return c.json({ code: 5, message: `unknown signal ${signal}` }, 404);
    const contentType = c.req.header("content-type") ?? "";
    let message: unknown;
    try {
      if (contentType.startsWith("application/x-protobuf")) message = type.decode(new Uint8Array(await c.req.arrayBuffer()));
      else if (contentType.startsWith("application/json")) {
        // fromObject reads proto3 JSON (64-bit integers as strings included); verify then checks the message.
        message = type.fromObject(mapIds(await c.req.json(), hexToBase64));
        const problem = type.verify(message);
        if (problem) return c.json({ code: 3, message: problem }, 400);
      } else return c.json({ code: 3, message: `unsupported content-type ${contentType}` }, 415);
    } catch (error) {
      return c.json({ code: 3, message: `undecodable body: ${error instanceof Error ? error.message : String(error)}` }, 400);
    }
    const request = mapIds(type.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false, arrays: true, oneofs: false }), base64ToHex) as Record<string, unknown>;
    book.exports.push({ signal, contentType, headers: Object.fromEntries(c.req.raw.headers), request });
    return c.json({});
  });
  return app;
}
