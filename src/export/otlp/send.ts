import { post } from "../http";
import type { OtlpProtocol, OtlpTarget } from "../settings";
import type { ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest } from "./model";
import { encodeLogs, encodeMetrics, encodeTraces } from "./protobuf";

/** OTLP/HTTP: one POST per signal and batch, protobuf (the specification's default) or JSON. */

type Signal =
  | { kind: "traces"; request: ExportTraceServiceRequest }
  | { kind: "metrics"; request: ExportMetricsServiceRequest }
  | { kind: "logs"; request: ExportLogsServiceRequest };

function protobufOf(signal: Signal): Uint8Array {
  switch (signal.kind) {
    case "traces":
      return encodeTraces(signal.request);
    case "metrics":
      return encodeMetrics(signal.request);
    case "logs":
      return encodeLogs(signal.request);
  }
}

export async function sendOtlp(target: OtlpTarget, protocol: OtlpProtocol, signal: Signal, secrets: readonly string[]): Promise<void> {
  const json = protocol === "http/json";
  await post(target.url, {
    headers: { ...target.headers, "content-type": json ? "application/json" : "application/x-protobuf" },
    body: json ? JSON.stringify(signal.request) : protobufOf(signal),
  }, secrets);
}
