import type { CircuitBreakerSettings } from "./schema";

/**
 * The circuit-breaker state machine, pure: the Durable Object stores and applies it, the isolate cache reads it.
 * closed → open when failures pile up; open → half-open once the cool-down has passed (computed on read, no
 * timer); half-open → closed after a success, back to open after a failure.
 */
export type CircuitState = "closed" | "open" | "half_open";

export type CircuitSnapshot = {
  /** Stored state; "open" reads as half-open after the cool-down (see `circuitStateAt`). */
  state: "closed" | "open";
  openedAt: number | null;
  consecutiveFailures: number;
  lastFailureAt: number | null;
  /** Latency EWMA of successful attempts, in ms. */
  latencyMs: number | null;
  windowRequests: number;
  windowFailures: number;
};

export type CircuitOutcome = { ok: boolean; at: number; latencyMs?: number | undefined };

export const CLOSED: CircuitSnapshot = { state: "closed", openedAt: null, consecutiveFailures: 0, lastFailureAt: null, latencyMs: null, windowRequests: 0, windowFailures: 0 };

/** Weight of the newest latency sample: recent enough to follow a slowdown within a few requests. */
export const LATENCY_EWMA_ALPHA = 0.3;

export function circuitStateAt(snapshot: CircuitSnapshot, now: number, settings: Pick<CircuitBreakerSettings, "cooldownMs">): CircuitState {
  if (snapshot.state === "closed") return "closed";
  return snapshot.openedAt !== null && now - snapshot.openedAt >= settings.cooldownMs ? "half_open" : "open";
}

export function shouldTrip(snapshot: Pick<CircuitSnapshot, "consecutiveFailures" | "windowRequests" | "windowFailures">, settings: CircuitBreakerSettings): boolean {
  if (snapshot.consecutiveFailures >= settings.failureThreshold) return true;
  return snapshot.windowRequests >= settings.minRequests && snapshot.windowFailures / snapshot.windowRequests >= settings.failureRate;
}

export const nextLatency = (previous: number | null, sample: number): number => (previous === null ? sample : previous + LATENCY_EWMA_ALPHA * (sample - previous));

/**
 * The snapshot after one outcome. `window` holds the window's counts including this outcome. Returns whether the
 * circuit closed, so the store can forget the failures that opened it.
 */
export function applyOutcome(snapshot: CircuitSnapshot, outcome: CircuitOutcome, window: { requests: number; failures: number }, settings: CircuitBreakerSettings): { snapshot: CircuitSnapshot; closed: boolean } {
  const next: CircuitSnapshot = { ...snapshot, windowRequests: window.requests, windowFailures: window.failures };
  if (outcome.ok) {
    next.consecutiveFailures = 0;
    if (outcome.latencyMs !== undefined) next.latencyMs = nextLatency(snapshot.latencyMs, outcome.latencyMs);
    const closed = snapshot.state === "open";
    if (closed) {
      next.state = "closed";
      next.openedAt = null;
      next.windowRequests = 1;
      next.windowFailures = 0;
    }
    return { snapshot: next, closed };
  }
  next.consecutiveFailures = snapshot.consecutiveFailures + 1;
  next.lastFailureAt = outcome.at;
  // A failure while open (a half-open trial, or the all-open last resort) restarts the cool-down.
  if (snapshot.state === "open" || shouldTrip(next, settings)) {
    next.state = "open";
    next.openedAt = outcome.at;
  }
  return { snapshot: next, closed: false };
}
