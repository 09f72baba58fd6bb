import { describe, expect, it } from "vitest";
import { CLOSED, applyOutcome, circuitStateAt, type CircuitSnapshot } from "../../src/routing/circuit";
import { CircuitBreakerSchema } from "../../src/routing/schema";

const settings = CircuitBreakerSchema.parse({ failureThreshold: 3, minRequests: 4, failureRate: 0.5, cooldownMs: 1000 });

function run(outcomes: boolean[], start: CircuitSnapshot = CLOSED): CircuitSnapshot {
  let snapshot = start;
  let requests = 0;
  let failures = 0;
  outcomes.forEach((ok, i) => {
    requests++;
    if (!ok) failures++;
    const next = applyOutcome(snapshot, { ok, at: 100 + i, latencyMs: ok ? 50 : undefined }, { requests, failures }, settings);
    snapshot = next.snapshot;
    if (next.closed) {
      requests = 1;
      failures = 0;
    }
  });
  return snapshot;
}

describe("circuit state machine", () => {
  it("opens after consecutive failures", () => {
    expect(run([false, false]).state).toBe("closed");
    const open = run([false, false, false]);
    expect(open).toMatchObject({ state: "open", openedAt: 102, lastFailureAt: 102 });
  });

  it("opens on the failure rate once the window has enough requests", () => {
    expect(run([true, false, true, false]).state).toBe("open");
    expect(run([true, false, true]).state).toBe("closed");
  });

  it("is half-open after the cool-down, closes after a success, reopens after a failure", () => {
    const open = run([false, false, false]);
    expect(circuitStateAt(open, 102 + 999, settings)).toBe("open");
    expect(circuitStateAt(open, 102 + 1000, settings)).toBe("half_open");
    const closed = applyOutcome(open, { ok: true, at: 1200, latencyMs: 40 }, { requests: 4, failures: 3 }, settings);
    expect(closed.closed).toBe(true);
    expect(closed.snapshot).toMatchObject({ state: "closed", openedAt: null, consecutiveFailures: 0, windowFailures: 0 });
    const reopened = applyOutcome(open, { ok: false, at: 1200 }, { requests: 4, failures: 4 }, settings);
    expect(reopened.snapshot).toMatchObject({ state: "open", openedAt: 1200 });
    expect(circuitStateAt(reopened.snapshot, 1300, settings)).toBe("open");
  });

  it("keeps an EWMA of successful latencies", () => {
    let snapshot = CLOSED;
    for (const latencyMs of [100, 100, 400]) snapshot = applyOutcome(snapshot, { ok: true, at: 1, latencyMs }, { requests: 1, failures: 0 }, settings).snapshot;
    expect(snapshot.latencyMs).toBeCloseTo(100 + 0.3 * 300);
  });
});
