import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/routing/random";
import { backoffDelay, circuitVerdict, classifyFailure, nextStep, type FailureFacts } from "../../src/routing/retry";
import { RetrySchema } from "../../src/routing/schema";

const http = (status: number, retryAfterMs?: number): FailureFacts => ({ outcome: "http_error", upstreamStatus: status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
const policy = RetrySchema.parse({ attempts: 3, backoff: { initialMs: 100, maxMs: 2000, multiplier: 2, jitter: "none" } });
const step = (failure: FailureFacts, over: { attemptsOnTarget?: number; remainingMs?: number; retry?: typeof policy } = {}) =>
  nextStep({ failure, retry: over.retry ?? policy, attemptsOnTarget: over.attemptsOnTarget ?? 1, remainingMs: over.remainingMs ?? 60_000, random: seededRandom(1) });

describe("classifyFailure", () => {
  it("400, 413 and 422 are the request's fault: no retry, no fallback", () => {
    for (const status of [400, 413, 422]) expect(classifyFailure(http(status))).toEqual({ fallback: false, retryAs: undefined });
  });

  it("401 and 403 fall back to another provider but are not retried on the same one", () => {
    for (const status of [401, 403, 404]) expect(classifyFailure(http(status))).toEqual({ fallback: true, retryAs: undefined });
  });

  it("408, 409, 429 and 5xx, network and timeouts may be retried and fall back", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 529]) expect(classifyFailure(http(status))).toEqual({ fallback: true, retryAs: status });
    expect(classifyFailure({ outcome: "timeout", upstreamStatus: null })).toEqual({ fallback: true, retryAs: "timeout" });
    expect(classifyFailure({ outcome: "network", upstreamStatus: null })).toEqual({ fallback: true, retryAs: "network" });
    expect(classifyFailure({ outcome: "stream_error", upstreamStatus: 200 })).toEqual({ fallback: true, retryAs: "network" });
  });
});

describe("nextStep", () => {
  it("never retries or falls back on a 400", () => {
    expect(step(http(400))).toEqual({ action: "stop" });
  });

  it("moves a 401 on to the next target at once", () => {
    expect(step(http(401))).toEqual({ action: "fallback" });
  });

  it("retries a 503 with exponential backoff until the attempts are used up", () => {
    expect(step(http(503), { attemptsOnTarget: 1 })).toEqual({ action: "retry", delayMs: 100, reason: "backoff" });
    expect(step(http(503), { attemptsOnTarget: 2 })).toEqual({ action: "retry", delayMs: 200, reason: "backoff" });
    expect(step(http(503), { attemptsOnTarget: 3 })).toEqual({ action: "fallback" });
  });

  it("only retries what `on` lists", () => {
    const only429 = RetrySchema.parse({ attempts: 3, on: [429] });
    expect(step(http(503), { retry: only429 })).toEqual({ action: "fallback" });
    expect(step({ outcome: "timeout", upstreamStatus: null }, { retry: only429 })).toEqual({ action: "fallback" });
    expect(step(http(429), { retry: only429 }).action).toBe("retry");
  });

  it("honours Retry-After when it fits, moves on when it is too long or does not fit the remaining time", () => {
    expect(step(http(429, 1500))).toEqual({ action: "retry", delayMs: 1500, reason: "retry-after" });
    expect(step(http(429, 30_000))).toEqual({ action: "fallback" });
    expect(step(http(429, 1500), { remainingMs: 1000 })).toEqual({ action: "fallback" });
  });

  it("a backoff that does not fit the remaining time moves on", () => {
    expect(step(http(503), { remainingMs: 50 })).toEqual({ action: "fallback" });
  });
});

describe("backoffDelay", () => {
  const backoff = { initialMs: 100, maxMs: 1000, multiplier: 3, jitter: "none" as const };
  it("grows by the multiplier up to the cap", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(backoff, n, seededRandom(1)))).toEqual([100, 300, 900, 1000]);
  });

  it("full jitter stays within [0, base] and spreads; equal jitter within [base/2, base]", () => {
    const random = seededRandom(5);
    const full = Array.from({ length: 500 }, () => backoffDelay({ ...backoff, jitter: "full" }, 2, random));
    expect(Math.min(...full)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...full)).toBeLessThanOrEqual(300);
    expect(new Set(full).size).toBeGreaterThan(50);
    const equal = Array.from({ length: 500 }, () => backoffDelay({ ...backoff, jitter: "equal" }, 2, random));
    expect(Math.min(...equal)).toBeGreaterThanOrEqual(150);
    expect(Math.max(...equal)).toBeLessThanOrEqual(300);
  });
});

describe("circuitVerdict", () => {
  it("counts target failures, not request-caused ones", () => {
    expect(circuitVerdict(null)).toBe("success");
    expect(circuitVerdict(http(503))).toBe("failure");
    expect(circuitVerdict(http(401))).toBe("failure");
    expect(circuitVerdict(http(400))).toBe("neutral");
  });
});
