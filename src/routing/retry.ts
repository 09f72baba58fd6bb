import type { RandomSource } from "./random";
import { RETRYABLE_STATUSES, type RetryOn, type RetryPolicy } from "./schema";

/** How an upstream attempt ended, as retry, fallback and the request record see it. */
export type AttemptOutcome = "success" | "http_error" | "timeout" | "network" | "stream_error" | "skipped";

/** What retry and fallback decisions need to know about a failed attempt. */
export type FailureFacts = { outcome: AttemptOutcome; upstreamStatus: number | null; retryAfterMs?: number | undefined };

/** Failures caused by the request itself: another target would refuse it just the same. */
export const NEVER_FALLBACK_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

export type FailureClass = {
  /** Another target may be tried. */
  fallback: boolean;
  /** The retry class this failure belongs to, when it may be retried on the same target at all. */
  retryAs: RetryOn | undefined;
};

/**
 * 400/413/422 stop; 401/403 (a bad key), 404 and other 4xx fall back but are not retried on the same target;
 * 408/409/429/5xx, network failures and timeouts may be retried and fall back.
 */
export function classifyFailure(failure: FailureFacts): FailureClass {
  if (failure.outcome === "timeout") return { fallback: true, retryAs: "timeout" };
  if (failure.outcome === "network" || failure.outcome === "stream_error") return { fallback: true, retryAs: "network" };
  const status = failure.upstreamStatus;
  if (status === null) return { fallback: true, retryAs: undefined };
  if (NEVER_FALLBACK_STATUSES.has(status)) return { fallback: false, retryAs: undefined };
  const retryable = (RETRYABLE_STATUSES as readonly number[]).includes(status);
  return { fallback: true, retryAs: retryable ? (status as RetryOn) : undefined };
}

/** The wait before retry number `retry` (1 = the first retry), with the policy's jitter. */
export function backoffDelay(backoff: RetryPolicy["backoff"], retry: number, random: RandomSource): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** Math.max(0, retry - 1));
  switch (backoff.jitter) {
    case "none":
      return Math.round(base);
    case "equal":
      return Math.round(base / 2 + random() * (base / 2));
    case "full":
      return Math.round(random() * base);
  }
}

export type NextStep = { action: "retry"; delayMs: number; reason: "retry-after" | "backoff" } | { action: "fallback" } | { action: "stop" };

/**
 * After a failed attempt: retry the same target (after a wait), fall back to the next one, or stop. An upstream
 * Retry-After is the wait when it is no longer than `backoff.maxMs` and fits the remaining time; otherwise the
 * request moves on instead of waiting.
 */
export function nextStep(input: { failure: FailureFacts; retry: RetryPolicy; attemptsOnTarget: number; remainingMs: number; random: RandomSource }): NextStep {
  const { failure, retry } = input;
  const failureClass = classifyFailure(failure);
  if (!failureClass.fallback) return { action: "stop" };
  if (failureClass.retryAs === undefined || !retry.on.includes(failureClass.retryAs) || input.attemptsOnTarget >= retry.attempts) return { action: "fallback" };
  if (failure.retryAfterMs !== undefined) {
    if (failure.retryAfterMs > retry.backoff.maxMs || failure.retryAfterMs >= input.remainingMs) return { action: "fallback" };
    return { action: "retry", delayMs: failure.retryAfterMs, reason: "retry-after" };
  }
  const delayMs = backoffDelay(retry.backoff, input.attemptsOnTarget, input.random);
  return delayMs >= input.remainingMs ? { action: "fallback" } : { action: "retry", delayMs, reason: "backoff" };
}

/** How a finished attempt counts for its target's circuit: request-caused failures say nothing about the target. */
export function circuitVerdict(failure: FailureFacts | null): "success" | "failure" | "neutral" {
  if (failure === null) return "success";
  return classifyFailure(failure).fallback ? "failure" : "neutral";
}
