import type { ProviderConfig, Target } from "../config/schema";
import { resolveSecret } from "../config/credentials";
import { GatewayError } from "../lib/errors";
import { adapterFor } from "../providers/registry";
import type { ProviderAdapter, UpstreamTarget } from "../providers/types";
import type { AttemptOutcome } from "../routing/retry";

/** A target made callable: its config, adapter, and the secrets it resolved (kept to redact them from errors). */
export type PreparedTarget = {
  target: Target;
  config: ProviderConfig;
  adapter: ProviderAdapter;
  upstream: UpstreamTarget;
  /** Secret values handed to the adapter for this target, so no upstream message can echo them back. */
  secretsSeen: Set<string>;
};

export function prepareTarget(env: Env, workspaceId: string, providers: Record<string, ProviderConfig>, target: Target): PreparedTarget {
  const config = providers[target.provider];
  if (!config) throw new GatewayError({ status: 500, type: "configuration_error", code: "unknown_provider", message: `Unknown provider "${target.provider}".` });
  const secretsSeen = new Set<string>();
  const upstream: UpstreamTarget = {
    providerName: target.provider,
    config,
    model: target.model,
    fetch: (input, init) => fetch(input, init),
    secret: async (ref) => {
      const value = await resolveSecret(env, workspaceId, ref, target.provider);
      secretsSeen.add(value);
      return value;
    },
  };
  return { target, config, adapter: adapterFor(config), upstream, secretsSeen };
}

/** Why an attempt failed, in the terms retry and fallback decisions need. */
export class UpstreamFailure extends GatewayError {
  readonly outcome: AttemptOutcome;
  readonly upstreamStatus: number | null;
  /** The upstream's Retry-After (or retry-after-ms), in milliseconds, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: ConstructorParameters<typeof GatewayError>[0] & { outcome: AttemptOutcome; upstreamStatus: number | null; retryAfterMs?: number }) {
    super(init);
    this.outcome = init.outcome;
    this.upstreamStatus = init.upstreamStatus;
    this.retryAfterMs = init.retryAfterMs;
  }
}

export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  return out;
}

/** Retry-After in seconds or as an HTTP date, or retry-after-ms; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * An upstream's non-2xx response as the client sees it: 4xx keep their status, type and the provider's message;
 * 5xx become 502 with the upstream status in the message and in `x-switchyard-upstream-status`.
 */
export async function failureFromResponse(prepared: PreparedTarget, response: Response): Promise<UpstreamFailure> {
  const provider = prepared.target.provider;
  const bodyText = await response.text().catch(() => "");
  const info = prepared.adapter.parseError(response.status, bodyText, response.headers);
  const message = redact(info.message, prepared.secretsSeen);
  const status = response.status;
  const retryAfter = retryAfterMs(response.headers);
  const headers: Record<string, string> = { "x-switchyard-upstream-status": String(status) };
  if (retryAfter !== undefined && status === 429) headers["retry-after"] = String(Math.ceil(retryAfter / 1000));
  const clientStatus = status >= 500 ? 502 : status >= 400 ? status : 502;
  return new UpstreamFailure({
    status: clientStatus,
    type: status >= 500 ? "upstream_error" : (info.type ?? (status === 429 ? "rate_limit_error" : "invalid_request_error")),
    code: info.code ?? (status >= 500 ? "upstream_error" : null),
    param: info.param ?? null,
    provider,
    message: status >= 500 ? `${provider} returned HTTP ${status}: ${message}` : `${provider}: ${message}`,
    headers,
    outcome: "http_error",
    upstreamStatus: status,
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  });
}

export function networkFailure(prepared: PreparedTarget, error: unknown): UpstreamFailure {
  const provider = prepared.target.provider;
  const detail = redact(error instanceof Error ? error.message : String(error), prepared.secretsSeen);
  return new UpstreamFailure({ status: 502, type: "upstream_error", code: "upstream_unreachable", provider, message: `${provider} could not be reached: ${detail}`, outcome: "network", upstreamStatus: null });
}

export function timeoutFailure(prepared: PreparedTarget, phase: string, ms: number): UpstreamFailure {
  const provider = prepared.target.provider;
  return new UpstreamFailure({ status: 504, type: "upstream_error", code: "upstream_timeout", provider, message: `${provider} did not answer in time (${phase} timeout of ${ms} ms).`, outcome: "timeout", upstreamStatus: null });
}
