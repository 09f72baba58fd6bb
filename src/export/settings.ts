import * as z from "zod";

/**
 * Where usage events are exported, from the deployment's settings (wrangler.toml `[vars]`, and secrets for the
 * headers and passwords): the standard OpenTelemetry exporter variables, and ClickHouse's HTTP interface. Read
 * only by the export consumer (src/export/consumer.ts), never on a request's path; a workspace config can point
 * nothing anywhere.
 */

export const SINKS = ["otlp_traces", "otlp_metrics", "otlp_logs", "clickhouse"] as const;
export type Sink = (typeof SINKS)[number];

export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export type OtlpTarget = { url: string; headers: Record<string, string> };

export type ExportSettings = {
  otlp: {
    protocol: OtlpProtocol;
    serviceName: string;
    resourceAttributes: Record<string, string>;
    traces: OtlpTarget | null;
    metrics: OtlpTarget | null;
    logs: OtlpTarget | null;
  };
  clickhouse: { url: string; table: string; user: string; password: string | undefined } | null;
};

const url = z.url({ protocol: /^https?$/ });
const setting = (env: Env, name: string): string | undefined => {
  const value: unknown = Reflect.get(env, name);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
};

export class ExportSettingsError extends Error {
  override readonly name = "ExportSettingsError";
}

function parsed<T extends z.ZodType>(schema: T, name: string, value: string | undefined): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ExportSettingsError(`${name}: ${result.error.issues[0]?.message ?? "invalid"}`);
  return result.data;
}

/**
 * `key1=value1,key2=value2` with URL-encoded values: the format of OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES. Entries without `=` are skipped, as the OpenTelemetry SDKs do.
 */
export function parseKeyValueList(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of (text ?? "").split(",")) {
    const at = entry.indexOf("=");
    if (at <= 0) continue;
    const key = entry.slice(0, at).trim();
    try {
      out[key] = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      out[key] = entry.slice(at + 1).trim();
    }
  }
  return out;
}

/**
 * One signal's endpoint, as the OpenTelemetry specification resolves it: the signal's own variable is used as
 * is; otherwise `/v1/<signal>` is appended to OTEL_EXPORTER_OTLP_ENDPOINT. `OTEL_<SIGNAL>_EXPORTER=none` turns
 * the signal off; logs (every usage event as a log record) are off unless OTEL_LOGS_EXPORTER=otlp.
 */
function otlpTarget(env: Env, signal: "traces" | "metrics" | "logs", onByDefault: boolean): OtlpTarget | null {
  const upper = signal.toUpperCase();
  const exporter = setting(env, `OTEL_${upper}_EXPORTER`) ?? (onByDefault ? "otlp" : "none");
  if (exporter === "none") return null;
  if (exporter !== "otlp") throw new ExportSettingsError(`OTEL_${upper}_EXPORTER: only "otlp" and "none" are supported`);
  const own = setting(env, `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`);
  const base = setting(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  const endpoint = own ? parsed(url, `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`, own) : base ? `${parsed(url, "OTEL_EXPORTER_OTLP_ENDPOINT", base).replace(/\/+$/, "")}/v1/${signal}` : undefined;
  if (!endpoint) return null;
  const headers = { ...parseKeyValueList(setting(env, "OTEL_EXPORTER_OTLP_HEADERS")), ...parseKeyValueList(setting(env, `OTEL_EXPORTER_OTLP_${upper}_HEADERS`)) };
  return { url: endpoint, headers };
}

const CLICKHOUSE_TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

export function exportSettingsOf(env: Env): ExportSettings {
  const protocol = parsed(z.enum(OTLP_PROTOCOLS).default("http/protobuf"), "OTEL_EXPORTER_OTLP_PROTOCOL", setting(env, "OTEL_EXPORTER_OTLP_PROTOCOL"));
  const clickhouseUrl = setting(env, "CLICKHOUSE_URL");
  return {
    otlp: {
      protocol,
      serviceName: setting(env, "OTEL_SERVICE_NAME") ?? "switchyard",
      resourceAttributes: parseKeyValueList(setting(env, "OTEL_RESOURCE_ATTRIBUTES")),
      traces: otlpTarget(env, "traces", true),
      metrics: otlpTarget(env, "metrics", true),
      logs: otlpTarget(env, "logs", false),
    },
    clickhouse: clickhouseUrl
      ? {
          url: parsed(url, "CLICKHOUSE_URL", clickhouseUrl),
          table: parsed(z.string().regex(CLICKHOUSE_TABLE, "a table name, optionally database.table").default("switchyard_usage_events"), "CLICKHOUSE_TABLE", setting(env, "CLICKHOUSE_TABLE")),
          user: setting(env, "CLICKHOUSE_USER") ?? "default",
          password: setting(env, "CLICKHOUSE_PASSWORD"),
        }
      : null,
  };
}

/** The sinks a usage event goes to under these settings. */
export function enabledSinks(settings: ExportSettings): Sink[] {
  const sinks: Sink[] = [];
  if (settings.otlp.traces) sinks.push("otlp_traces");
  if (settings.otlp.metrics) sinks.push("otlp_metrics");
  if (settings.otlp.logs) sinks.push("otlp_logs");
  if (settings.clickhouse) sinks.push("clickhouse");
  return sinks;
}

/** Every secret value the settings hold (header values, the password), to keep them out of logged errors. */
export function secretsOf(settings: ExportSettings): string[] {
  const targets = [settings.otlp.traces, settings.otlp.metrics, settings.otlp.logs];
  return [...targets.flatMap((t) => Object.values(t?.headers ?? {})), ...(settings.clickhouse?.password ? [settings.clickhouse.password] : [])].filter((s) => s.length >= 4);
}
