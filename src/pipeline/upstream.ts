import type { GatewayConfig, ProviderConfig, Target } from "../config/schema";
import { resolveSecret } from "../config/credentials";
import { isConfigFileDocument } from "../config/store";
import { outboundURLProblem, privateUpstreamsAllowed } from "../config/upstream-addresses";
import { GatewayError } from "../lib/errors";
import type { Redactor } from "../lib/redact";
import { adapterFor } from "../providers/registry";
import type { ProviderCall } from "../providers/batch";
import type { ProviderAdapter, UpstreamTarget } from "../providers/types";
import type { AttemptOutcome } from "../routing/retry";

/** A target made callable: its config, adapter, and the one way it reaches the network. */
export type PreparedTarget = {
  target: Target;
  config: ProviderConfig;
  adapter: ProviderAdapter;
  upstream: UpstreamTarget;
  /** The request's redactor: every secret resolved for this target is added to it, so no message can echo it back. */
  redactor: Redactor;
  /** Every upstream call of this target (the main call and side calls such as token exchanges) goes through here. */
  fetch: (request: Request, init?: { signal?: AbortSignal }) => Promise<Response>;
};

/** What a request's workspace may reach: resolved once per request, applied to every target it prepares. */
export type UpstreamAccess = {
  env: Env;
  workspaceId: string;
  /** The operator lets this config reach private, loopback and link-local addresses (or it is the config file). */
  privateAddresses: boolean;
  redactor: Redactor;
};

/** The access of one workspace's config: the config file may reach private addresses, others only when the operator allows. */
export function upstreamAccessFor(env: Env, workspaceId: string, config: GatewayConfig, redactor: Redactor): UpstreamAccess {
  const privateAddresses = isConfigFileDocument(config) || privateUpstreamsAllowed(env, workspaceId);
  return { env, workspaceId, privateAddresses, redactor };
}

const addressRefused = (provider: string, url: string, problem: string) =>
  new GatewayError({
    status: 503,
    type: "configuration_error",
    code: "upstream_address_not_allowed",
    provider,
    message: `Provider "${provider}" was not called: its address ${new URL(url).origin} ${problem}.`,
  });

export function prepareTarget(access: UpstreamAccess, providers: Record<string, ProviderConfig>, target: Target): PreparedTarget {
  const config = providers[target.provider];
  if (!config) throw new GatewayError({ status: 500, type: "configuration_error", code: "unknown_provider", message: `Unknown provider "${target.provider}".` });
  const { redactor } = access;
  // Redirects are never followed: a provider that answers 3xx could otherwise send the request (and its
  // credentials) to an address the config could not name.
  const guardedFetch = (request: Request, init?: { signal?: AbortSignal }): Promise<Response> => {
    const problem = outboundURLProblem(request.url, { privateAllowed: access.privateAddresses });
    if (problem !== undefined) return Promise.reject(addressRefused(target.provider, request.url, problem));
    return fetch(request, { redirect: "manual", ...(init?.signal ? { signal: init.signal } : {}) });
  };
  const upstream: UpstreamTarget = {
    providerName: target.provider,
    config,
    model: target.model,
    fetch: (input, init) => guardedFetch(new Request(input, init), init?.signal ? { signal: init.signal } : undefined),
    secret: async (ref) => {
      const value = await resolveSecret(access.env, access.workspaceId, ref, target.provider);
      redactor.add(value);
      return value;
    },
    sensitive: (value) => redactor.add(value),
  };
  return { target, config, adapter: adapterFor(config), upstream, redactor, fetch: guardedFetch };
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
  const message = prepared.redactor.redact(info.message);
  const status = response.status;
  const retryAfter = retryAfterMs(response.headers);
  const headers: Record<string, string> = { "x-switchyard-upstream-status": String(status) };
  if (retryAfter !== undefined && status === 429) headers["retry-after"] = String(Math.ceil(retryAfter / 1000));
  const clientStatus = status >= 500 ? 502 : status;
  if (status < 400) {
    // A redirect (fetches never follow them): where it points is not the client's business.
    return new UpstreamFailure({ status: 502, type: "upstream_error", code: "upstream_redirect", provider, message: `${provider} answered with a redirect (HTTP ${status}), which the gateway does not follow.`, headers, outcome: "http_error", upstreamStatus: status });
  }
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
  const detail = prepared.redactor.redact(error instanceof Error ? error.message : String(error));
  return new UpstreamFailure({ status: 502, type: "upstream_error", code: "upstream_unreachable", provider, message: `${provider} could not be reached: ${detail}`, outcome: "network", upstreamStatus: null });
}

export function timeoutFailure(prepared: PreparedTarget, phase: string, ms: number): UpstreamFailure {
  const provider = prepared.target.provider;
  return new UpstreamFailure({ status: 504, type: "upstream_error", code: "upstream_timeout", provider, message: `${provider} did not answer in time (${phase} timeout of ${ms} ms).`, outcome: "timeout", upstreamStatus: null });
}

/**
 * Side work with a provider outside the request pipeline (batches, fine-tuning): one upstream call, its non-2xx
 * answer thrown as the provider's error (credentials redacted) unless `accept` takes its status.
 */
export function providerCallOf(prepared: PreparedTarget): ProviderCall {
  return async (request, options) => {
    let response: Response;
    try {
      response = await prepared.fetch(request);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw networkFailure(prepared, error);
    }
    if (!response.ok && !options?.accept?.(response.status)) throw await failureFromResponse(prepared, response);
    return response;
  };
}

/** A provider's refusal that trying again will not change (a 4xx other than 408 and 429). */
export const isRefusal = (error: unknown): error is GatewayError => error instanceof GatewayError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
