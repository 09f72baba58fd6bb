import type { GatewayConfig } from "../config/schema";
import { GatewayError } from "../lib/errors";
import { supportsOf } from "../providers/registry";
import type { Redactor } from "../lib/redact";
import type { RoutingFacts } from "../routing/conditions";
import { planDirect, planRoute, type Plan, type PlanInput, type PlannedAttempt } from "../routing/plan";
import { defaultRandom, type RandomSource } from "../routing/random";
import { resolveModel } from "../routing/resolve";
import { circuitVerdict, nextStep, type FailureFacts } from "../routing/retry";
import { SUPPORTS_ALL, type Capability } from "../schema/capabilities";
import { priceOfTarget } from "../usage/pricing";
import { CircuitView } from "./circuits";
import { AttemptTimer, pause, type AttemptControl } from "./deadline";
import { AttemptLog, type Answer } from "../settle/record";
import { UpstreamFailure, prepareTarget, timeoutFailure, type PreparedTarget, type UpstreamAccess, upstreamAccessFor } from "./upstream";

export type ExecutionScope = {
  env: Env;
  workspaceId: string;
  config: GatewayConfig;
  /** performance.now() when the request entered the gateway: every attempt's total timeout counts from here. */
  startedAt: number;
  /** The attempt loop's output, appended as attempts are made (the settle step reads it). */
  log: AttemptLog;
  circuits: CircuitView;
  /** The client's request signal: when it aborts, no further attempt is made. */
  clientSignal: AbortSignal | undefined;
  random: RandomSource;
  /** What this workspace's targets may reach, and the redactor their secrets go to. */
  access: UpstreamAccess;
};

/** A request's execution scope. Its circuit outcomes and refreshes are sent by `circuits.settle()` after the response. */
export function newExecutionScope(init: { env: Env; workspaceId: string; config: GatewayConfig; startedAt: number; redactor: Redactor; clientSignal?: AbortSignal }): ExecutionScope {
  const circuits = new CircuitView(init.env, init.workspaceId, init.config.circuitBreaker);
  // The operator's own config file may name any address; configs written through the admin API only what the
  // operator allows their workspace (src/config/upstream-addresses.ts).
  const access = upstreamAccessFor(init.env, init.workspaceId, init.config, init.redactor);
  return { env: init.env, workspaceId: init.workspaceId, config: init.config, startedAt: init.startedAt, log: new AttemptLog(), circuits, clientSignal: init.clientSignal, random: defaultRandom, access };
}

/** The request facts routing looks at (conditional rules, cost estimates). */
export type RoutingRequest = RoutingFacts & { maxTokens?: number | undefined };

/** A plan and the route it came from (undefined for a direct `provider/model` request). */
export type RequestPlan = Plan & { route: string | undefined };

/**
 * The attempts a request will make, in order: its route's strategy (or the direct target), targets that cannot
 * serve what the request `needs` and open circuits skipped; a 400 when no target can serve it.
 */
export function planTargets(scope: ExecutionScope, request: RoutingRequest, needs: readonly Capability[]): RequestPlan {
  const { config } = scope;
  const input: PlanInput = {
    routes: config.routes,
    facts: request,
    random: scope.random,
    health: (target) => scope.circuits.health(target),
    price: (target) => priceOfTarget(config, target.provider, target.model),
    needs,
    // Routes only name configured providers (the config schema checks); an unknown one fails when it is prepared.
    supports: (target) => {
      const provider = config.providers[target.provider];
      return provider ? supportsOf(provider) : SUPPORTS_ALL;
    },
  };
  const resolved = resolveModel(config, request.model);
  if (resolved.kind === "direct") return { ...planDirect(resolved.target, input), route: undefined };
  return { ...planRoute(resolved.name, input), route: resolved.name };
}

type AttemptResult<T> = { ok: true; value: T; latencyMs: number } | { ok: false; failure: GatewayError; latencyMs: number };

const factsOf = (failure: GatewayError): FailureFacts =>
  failure instanceof UpstreamFailure
    ? { outcome: failure.outcome, upstreamStatus: failure.upstreamStatus, retryAfterMs: failure.retryAfterMs }
    : // The gateway's own refusal for this target (a missing credential, an unsupported operation): try another.
      { outcome: "http_error", upstreamStatus: null };

async function attemptOnce<T>(scope: ExecutionScope, prepared: PreparedTarget, planned: PlannedAttempt, remainingMs: number, attempt: (prepared: PreparedTarget, control: AttemptControl) => Promise<T>): Promise<AttemptResult<T>> {
  const timer = new AttemptTimer({ connectMs: planned.timeout.connectMs, firstByteMs: planned.timeout.firstByteMs, totalMs: remainingMs }, scope.clientSignal);
  const startedAt = performance.now();
  const pending = attempt(prepared, timer.control);
  // The race below may be lost by `pending`; its late rejection (the aborted fetch) is expected.
  pending.catch(() => undefined);
  try {
    const value = await Promise.race([pending, timer.expiry]);
    return { ok: true, value, latencyMs: performance.now() - startedAt };
  } catch (error) {
    const expired = timer.expired;
    // Whatever the attempt failed with (an upstream's message, a stream's first event, a token exchange) is
    // scrubbed of the secrets it used before anyone sees it.
    const failure = expired
      ? timeoutFailure(prepared, expired.phase, expired.ms)
      : error instanceof GatewayError
        ? prepared.redactor.redactError(error)
        : new GatewayError({ status: 502, type: "upstream_error", provider: prepared.target.provider, message: `${prepared.target.provider}: the upstream call failed.` });
    return { ok: false, failure, latencyMs: performance.now() - startedAt };
  } finally {
    timer.dispose();
  }
}

function finalFailure(scope: ExecutionScope, failure: GatewayError | undefined): GatewayError {
  const error = failure ?? new GatewayError({ status: 503, type: "upstream_error", code: "no_target", message: "No target could serve the request within its time budget." });
  error.headers["x-switchyard-attempts"] = String(scope.log.attempts.length);
  return error;
}

/**
 * Runs the plan: each target is tried, retried on its retry policy (backoff, Retry-After) and fallen back from
 * as the failure allows, within the request's time budget. Every attempt is recorded and reported to its
 * circuit breaker (sent when the request settles). Returns the first success and who gave it; throws the failure
 * that ended the request otherwise (the attempts made are in `scope.log` either way).
 */
export async function runAttempts<T>(scope: ExecutionScope, plan: Plan, attempt: (prepared: PreparedTarget, control: AttemptControl) => Promise<T>): Promise<{ value: T; prepared: PreparedTarget; answer: Answer }> {
  const { log } = scope;
  let lastFailure: GatewayError | undefined;
  for (const planned of plan.attempts) {
    const { target } = planned;
    const prepared = prepareTarget(scope.access, scope.config.providers, target);
    for (let tries = 1; ; tries++) {
      const remainingMs = scope.startedAt + planned.timeout.totalMs - performance.now();
      if (remainingMs <= 0) {
        lastFailure ??= timeoutFailure(prepared, "total", planned.timeout.totalMs);
        break;
      }
      const result = await attemptOnce(scope, prepared, planned, remainingMs, attempt);
      const at = Date.now();
      if (result.ok) {
        log.attempts.push({ provider: target.provider, model: target.model, status: 200, outcome: "success", latencyMs: result.latencyMs });
        scope.circuits.report(target, { ok: true, at, latencyMs: result.latencyMs });
        return { value: result.value, prepared, answer: { target: { provider: target.provider, model: target.model }, source: "upstream" } };
      }
      const { failure } = result;
      const facts = factsOf(failure);
      log.attempts.push({ provider: target.provider, model: target.model, status: facts.upstreamStatus, outcome: facts.outcome, latencyMs: result.latencyMs, errorClass: failure.code ?? failure.type });
      lastFailure = failure;
      // A client that went away aborted the attempt: that says nothing about the target.
      if (scope.clientSignal?.aborted) throw finalFailure(scope, failure);
      if (failure instanceof UpstreamFailure && circuitVerdict(facts) === "failure") scope.circuits.report(target, { ok: false, at });
      const step = nextStep({ failure: facts, retry: planned.retry, attemptsOnTarget: tries, remainingMs: scope.startedAt + planned.timeout.totalMs - performance.now(), random: scope.random });
      if (step.action === "stop") throw finalFailure(scope, failure);
      if (step.action === "fallback") break;
      await pause(step.delayMs, scope.clientSignal);
      if (scope.clientSignal?.aborted) throw finalFailure(scope, failure);
    }
  }
  throw finalFailure(scope, lastFailure);
}
