import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RATE_WINDOW_MS, RESERVATION_TTL_MS, type ScopeLimits } from "../../durable-objects/key-limiter";

/** The limiter's RPC methods called directly, with time injected through their `now` parameter. */
const limiter = (name: string) => env.KEY_LIMITER.getByName(`test:${name}`);
const KEY = "key:k";
type Call = { estimatedTokens?: number; maxCostUsd?: number; now: number; priority?: "interactive" | "background" };
const admit = (stub: ReturnType<typeof limiter>, requestId: string, limits: Omit<ScopeLimits, "scope">, call: Call) =>
  stub.admit({ requestId, scopes: [{ scope: KEY, ...limits }], estimatedTokens: call.estimatedTokens ?? 0, maxCostUsd: call.maxCostUsd ?? 0, now: call.now, ...(call.priority ? { priority: call.priority } : {}) });

describe("KeyLimiter: windows and periods (time injected through the RPC)", () => {
  it("a daily budget resets at the UTC day boundary, a monthly one at the month's", async () => {
    const stub = limiter("day");
    const lateEvening = Date.UTC(2026, 10, 30, 23, 59, 0);
    const budget = { usd: 1, period: "day" as const };
    expect(await admit(stub, "a", { budget }, { maxCostUsd: 0.6, now: lateEvening })).toMatchObject({ ok: true });
    await stub.settle({ requestId: "a", tokens: 0, costUsd: 0.6 });
    expect(await admit(stub, "b", { budget }, { maxCostUsd: 0.6, now: lateEvening + 1_000 })).toMatchObject({ ok: false, scope: KEY, reason: "budget", retryAfterMs: 59_000 });
    expect(await admit(stub, "c", { budget }, { maxCostUsd: 0.6, now: Date.UTC(2026, 11, 1) })).toMatchObject({ ok: true, scopes: [{ budget: { periodKey: "d:2026-12-01", spentUsd: 0 } }] });

    const monthly = limiter("month");
    const month = { usd: 1, period: "month" as const };
    await admit(monthly, "a", { budget: month }, { maxCostUsd: 0.9, now: Date.UTC(2026, 10, 3) });
    await monthly.settle({ requestId: "a", tokens: 0, costUsd: 0.9 });
    expect(await admit(monthly, "b", { budget: month }, { maxCostUsd: 0.2, now: Date.UTC(2026, 10, 29) })).toMatchObject({ ok: false, retryAfterMs: Date.UTC(2026, 11, 1) - Date.UTC(2026, 10, 29) });
    expect(await admit(monthly, "c", { budget: month }, { maxCostUsd: 0.2, now: Date.UTC(2026, 11, 1, 0, 0, 1) })).toMatchObject({ ok: true });
    expect((await monthly.snapshot(KEY, Date.UTC(2026, 11, 1, 0, 0, 2))).spend).toEqual([{ periodKey: "m:2026-11", usd: 0.9 }]);
  });

  it("a total budget never resets; settlement counts in the period the request was admitted in", async () => {
    const stub = limiter("total");
    const total = { usd: 1, period: "total" as const };
    await admit(stub, "a", { budget: total }, { maxCostUsd: 1, now: Date.UTC(2026, 0, 1) });
    await stub.settle({ requestId: "a", tokens: 0, costUsd: 0.99 });
    expect(await admit(stub, "b", { budget: total }, { maxCostUsd: 0.02, now: Date.UTC(2030, 0, 1) })).toMatchObject({ ok: false, reason: "budget", retryAfterMs: null });
  });

  it("the rpm window slides: a slot frees exactly 60 s after the request that held it", async () => {
    const stub = limiter("rpm");
    const t = Date.UTC(2026, 10, 27, 12);
    expect(await admit(stub, "r0", { rpm: 2 }, { now: t })).toMatchObject({ ok: true });
    expect(await admit(stub, "r1", { rpm: 2 }, { now: t + 10_000 })).toMatchObject({ ok: true });
    expect(await admit(stub, "r2", { rpm: 2 }, { now: t + 20_000 })).toMatchObject({ ok: false, reason: "requests", retryAfterMs: 40_000 });
    expect(await admit(stub, "r3", { rpm: 2 }, { now: t + RATE_WINDOW_MS - 1 })).toMatchObject({ ok: false });
    expect(await admit(stub, "r4", { rpm: 2 }, { now: t + RATE_WINDOW_MS })).toMatchObject({ ok: true, scopes: [{ requests: { remaining: 0 } }] });
  });

  it("a refusal on one limit records nothing on the others", async () => {
    const stub = limiter("atomic");
    const t = Date.UTC(2026, 10, 27, 12);
    const limits = { rpm: 10, tpm: 100, budget: { usd: 1, period: "day" as const } };
    expect(await admit(stub, "a", limits, { estimatedTokens: 90, maxCostUsd: 0.1, now: t })).toMatchObject({ ok: true });
    expect(await admit(stub, "b", limits, { estimatedTokens: 20, maxCostUsd: 0.1, now: t + 1 })).toMatchObject({ ok: false, reason: "tokens" });
    expect(await stub.snapshot(KEY, t + 2)).toMatchObject({ requestsInWindow: 1, tokensInWindow: 90, reservations: 1 });
  });

  it("key and workspace scopes are checked together: the workspace's limit binds across keys", async () => {
    const stub = limiter("scopes");
    const t = Date.UTC(2026, 10, 27, 12);
    const workspace: ScopeLimits = { scope: "workspace", rpm: 3 };
    const call = (requestId: string, key: string, at: number) =>
      stub.admit({ requestId, scopes: [{ scope: `key:${key}`, rpm: 2 }, workspace], estimatedTokens: 0, maxCostUsd: 0, now: at });
    expect(await call("1", "a", t)).toMatchObject({ ok: true });
    expect(await call("2", "a", t + 1)).toMatchObject({ ok: true });
    expect(await call("3", "a", t + 2)).toMatchObject({ ok: false, scope: "key:a", reason: "requests" });
    expect(await call("4", "b", t + 3)).toMatchObject({ ok: true });
    expect(await call("5", "b", t + 4)).toMatchObject({ ok: false, scope: "workspace", reason: "requests" });
    expect(await stub.snapshot("key:b", t + 5)).toMatchObject({ requestsInWindow: 1 });
    expect(await stub.snapshot("workspace", t + 5)).toMatchObject({ requestsInWindow: 3 });
  });

  it("a reservation that is never settled (a crashed request) is released after its TTL", async () => {
    const stub = limiter("stale");
    const t = Date.UTC(2026, 10, 27, 1);
    const budget = { usd: 1, period: "day" as const };
    await admit(stub, "lost", { budget }, { maxCostUsd: 1, now: t });
    expect(await admit(stub, "b", { budget }, { maxCostUsd: 0.5, now: t + 1_000 })).toMatchObject({ ok: false });
    expect(await admit(stub, "c", { budget }, { maxCostUsd: 0.5, now: t + RESERVATION_TTL_MS + 1 })).toMatchObject({ ok: true });
  });

  it("background requests (batch lines) take only spare capacity: tokens and budget keep a reserve for interactive ones", async () => {
    const t = Date.UTC(2026, 10, 27, 12);
    const background = { priority: "background" as const };
    const tokens = limiter("background-tpm");
    // tpm 1000: batch lines may fill the window to 1000 - max(20%, interactive use) = 800 tokens.
    expect(await admit(tokens, "b1", { tpm: 1_000 }, { estimatedTokens: 700, now: t, ...background })).toMatchObject({ ok: true });
    expect(await admit(tokens, "b2", { tpm: 1_000 }, { estimatedTokens: 150, now: t + 1, ...background })).toMatchObject({ ok: false, reason: "tokens", retryAfterMs: RATE_WINDOW_MS - 1 });
    expect(await admit(tokens, "i1", { tpm: 1_000 }, { estimatedTokens: 250, now: t + 2 })).toMatchObject({ ok: true });
    // A line bigger than what batch lines may ever use can never run: no time to come back.
    expect(await admit(tokens, "b3", { tpm: 1_000 }, { estimatedTokens: 900, now: t + RATE_WINDOW_MS * 2, ...background })).toMatchObject({ ok: false, reason: "tokens", retryAfterMs: null });

    const budget = limiter("background-budget");
    const daily = { budget: { usd: 1, period: "day" as const } };
    expect(await admit(budget, "b1", daily, { maxCostUsd: 0.7, now: t, ...background })).toMatchObject({ ok: true });
    expect(await admit(budget, "b2", daily, { maxCostUsd: 0.2, now: t + 1, ...background })).toMatchObject({ ok: false, reason: "budget" });
    expect(await admit(budget, "i1", daily, { maxCostUsd: 0.2, now: t + 2 })).toMatchObject({ ok: true });
  });
});
