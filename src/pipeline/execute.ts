import type { GatewayConfig, Target } from "../config/schema";
import { targetsOf } from "../config/schema";
import { GatewayError } from "../lib/errors";
import { resolveModel } from "../routing/resolve";
import type { RequestRecord } from "./record";
import { UpstreamFailure, prepareTarget, type PreparedTarget } from "./upstream";

export type ExecutionScope = { env: Env; workspaceId: string; config: GatewayConfig; record: RequestRecord };

/** The targets a request may be served by, in the order they are tried. */
export function planTargets(config: GatewayConfig, model: string, record: RequestRecord): Target[] {
  const resolved = resolveModel(config, model);
  if (resolved.kind === "direct") return [resolved.target];
  record.route = resolved.name;
  return targetsOf(resolved.route);
}

/**
 * Runs attempts over the plan until one succeeds, recording each attempt. Returns the first success; throws
 * the last failure when every attempt failed.
 */
export async function runAttempts<T>(
  scope: ExecutionScope,
  plan: readonly Target[],
  attempt: (prepared: PreparedTarget) => Promise<T>,
): Promise<{ value: T; prepared: PreparedTarget }> {
  let lastFailure: GatewayError | undefined;
  for (const target of plan) {
    const prepared = prepareTarget(scope.env, scope.workspaceId, scope.config.providers, target);
    const startedAt = performance.now();
    try {
      const value = await attempt(prepared);
      scope.record.attempts.push({ provider: target.provider, model: target.model, status: 200, outcome: "success", latencyMs: performance.now() - startedAt });
      scope.record.answeredBy = { provider: target.provider, model: target.model };
      return { value, prepared };
    } catch (error) {
      const failure = error instanceof GatewayError ? error : new GatewayError({ status: 502, type: "upstream_error", message: "upstream call failed" });
      scope.record.attempts.push({
        provider: target.provider,
        model: target.model,
        status: failure instanceof UpstreamFailure ? failure.upstreamStatus : null,
        outcome: failure instanceof UpstreamFailure ? failure.outcome : "http_error",
        latencyMs: performance.now() - startedAt,
        errorClass: failure.code ?? failure.type,
      });
      lastFailure = failure;
    }
  }
  throw lastFailure ?? new GatewayError({ status: 502, type: "upstream_error", message: "No target could serve the request." });
}
