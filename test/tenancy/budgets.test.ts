import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RATE_WINDOW_MS, RESERVATION_TTL_MS } from "../../durable-objects/key-limiter";
import { emptyUsage } from "../../src/schema/internal";
import { costOf, priceOf } from "../../src/usage/pricing";
import { anthropicClient, callGateway, newWorkspace, readSSE, simulatorProviders, upstreamRequests } from "../helpers";
import { addKey, hello, limiterWhen, settledLimiter, type ErrorBody } from "./tenancy-helpers";

const price = priceOf("openai", "gpt-4o-mini")!;
/** "Hi" is estimated at 5 prompt tokens (1 + 4 per message); max_tokens 10 fits the simulator's whole reply. */
const REQUEST = hello("Hi", { max_tokens: 10 });
const MAX_COST = costOf({ ...emptyUsage(), promptTokens: 5, completionTokens: 10 }, price)!;

type Completion = { usage: { prompt_tokens: number; completion_tokens: number } };
const costOfCompletion = (body: Completion) => costOf({ ...emptyUsage(), promptTokens: body.usage.prompt_tokens, completionTokens: body.usage.completion_tokens }, price)!;

async function wave(key: string, n: number) {
  const responses = await Promise.all(Array.from({ length: n }, () => callGateway(key, "/v1/chat/completions", REQUEST)));
  let spent = 0;
  let refused = 0;
  for (const res of responses) {
    if (res.status === 200) spent += costOfCompletion((await res.json()) as Completion);
    else {
      expect(res.status).toBe(429);
      const body = (await res.json()) as ErrorBody;
      expect(body.error).toMatchObject({ type: "budget_exceeded", code: "budget_exceeded" });
      refused++;
    }
  }
  return { admitted: n - refused, refused, spent };
}

describe("budgets per key", () => {
  it("under 50 concurrent requests the settled spend stays within the budget (never more than one request's maximum cost over)", async () => {
    const ws = await newWorkspace();
    const budgetUsd = 20 * MAX_COST;
    const key = await addKey(ws.id, { budget: { usd: budgetUsd, period: "month" } });

    const first = await wave(key.key, 50);
    // Reservations of the maximum cost: exactly as many as fit get in at once, however they interleave.
    expect(first.admitted).toBe(20);
    expect((await upstreamRequests(ws.scenario)).length).toBe(20);
    const afterFirst = await settledLimiter(ws.id, key.id);
    expect(afterFirst.spend).toHaveLength(1);
    expect(afterFirst.spend[0]!.usd).toBeCloseTo(first.spent, 12);

    // Settlement released what the requests did not use; a second wave uses the rest and no more.
    const second = await wave(key.key, 50);
    expect(second.admitted).toBeGreaterThanOrEqual(1);
    const settled = (await settledLimiter(ws.id, key.id)).spend[0]!.usd;
    expect(settled).toBeCloseTo(first.spent + second.spent, 12);
    expect(settled).toBeLessThanOrEqual(budgetUsd + MAX_COST);
    expect(settled).toBeGreaterThan(budgetUsd - MAX_COST);
  });

  it("a refused request carries a reset and never reaches the upstream; the Anthropic dialect gets its own error shape", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
    }));
    const key = await addKey(ws.id, { budget: { usd: MAX_COST * 1.5, period: "day" } });
    expect((await callGateway(key.key, "/v1/chat/completions", REQUEST)).status).toBe(200);
    await settledLimiter(ws.id, key.id);
    const refused = await callGateway(key.key, "/v1/chat/completions", hello("Hi", { max_tokens: 1000 }));
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.type).toBe("budget_exceeded");
    expect(body.error.message).toContain("max_tokens");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(Number(refused.headers.get("x-switchyard-budget-remaining-usd"))).toBeGreaterThan(0);
    expect((await upstreamRequests(ws.scenario)).length).toBe(1);

    const anthropic = anthropicClient(key.key);
    const error = await anthropic.messages.create({ model: "anthropic/claude-haiku-4-5", max_tokens: 4000, messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429 });
    expect(JSON.stringify((error as { error: unknown }).error)).toContain("rate_limit_error");
  });

  it("a streamed answer settles to the usage its stream reported", async () => {
    const ws = await newWorkspace();
    const key = await addKey(ws.id, { budget: { usd: 1, period: "day" }, rateLimit: { tpm: 10_000 } });
    const res = await callGateway(key.key, "/v1/chat/completions", { ...REQUEST, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit-tokens")).toBe("10000");
    const frames = await readSSE(res);
    const usage = JSON.parse(frames.at(-2)!.data).usage as Completion["usage"] & { total_tokens: number };
    const snapshot = await limiterWhen(ws.id, key.id, (s) => s.reservations === 0 && s.tokensInWindow === usage.total_tokens);
    expect(snapshot.spend[0]!.usd).toBeCloseTo(costOfCompletion({ usage }), 12);
  });

  it("a budgeted key cannot call an unpriced model (its cost could not be bounded)", async () => {
    const ws = await newWorkspace();
    const key = await addKey(ws.id, { budget: { usd: 1, period: "total" } });
    const res = await callGateway(key.key, "/v1/chat/completions", { ...REQUEST, model: "openai/some-unpriced-model" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "unpriced_model", param: "model" });
  });
});

describe("KeyLimiter: windows and periods (time injected through the RPC)", () => {
  const limiter = (name: string) => env.KEY_LIMITER.getByName(`test:${name}`);

  it("a daily budget resets at the UTC day boundary, a monthly one at the month's", async () => {
    const stub = limiter("day");
    const lateEvening = Date.UTC(2026, 10, 30, 23, 59, 0);
    const budget = { usd: 1, period: "day" as const };
    expect(await stub.admit({ requestId: "a", budget, maxCostUsd: 0.6, estimatedTokens: 0, now: lateEvening })).toMatchObject({ ok: true });
    await stub.settle({ requestId: "a", tokens: 0, costUsd: 0.6 });
    const refused = await stub.admit({ requestId: "b", budget, maxCostUsd: 0.6, estimatedTokens: 0, now: lateEvening + 1_000 });
    expect(refused).toMatchObject({ ok: false, reason: "budget", retryAfterMs: 59_000 });
    expect(await stub.admit({ requestId: "c", budget, maxCostUsd: 0.6, estimatedTokens: 0, now: Date.UTC(2026, 11, 1) })).toMatchObject({ ok: true, budget: { periodKey: "d:2026-12-01", spentUsd: 0 } });

    const monthly = limiter("month");
    const month = { usd: 1, period: "month" as const };
    await monthly.admit({ requestId: "a", budget: month, maxCostUsd: 0.9, estimatedTokens: 0, now: Date.UTC(2026, 10, 3) });
    await monthly.settle({ requestId: "a", tokens: 0, costUsd: 0.9 });
    expect(await monthly.admit({ requestId: "b", budget: month, maxCostUsd: 0.2, estimatedTokens: 0, now: Date.UTC(2026, 10, 29) })).toMatchObject({ ok: false, retryAfterMs: Date.UTC(2026, 11, 1) - Date.UTC(2026, 10, 29) });
    expect(await monthly.admit({ requestId: "c", budget: month, maxCostUsd: 0.2, estimatedTokens: 0, now: Date.UTC(2026, 11, 1, 0, 0, 1) })).toMatchObject({ ok: true });
    expect((await monthly.snapshot(Date.UTC(2026, 11, 1, 0, 0, 2))).spend).toEqual([{ periodKey: "m:2026-11", usd: 0.9 }]);
  });

  it("a total budget never resets; settlement counts in the period the request was admitted in", async () => {
    const stub = limiter("total");
    const total = { usd: 1, period: "total" as const };
    await stub.admit({ requestId: "a", budget: total, maxCostUsd: 1, estimatedTokens: 0, now: Date.UTC(2026, 0, 1) });
    await stub.settle({ requestId: "a", tokens: 0, costUsd: 0.99 });
    expect(await stub.admit({ requestId: "b", budget: total, maxCostUsd: 0.02, estimatedTokens: 0, now: Date.UTC(2030, 0, 1) })).toMatchObject({ ok: false, reason: "budget", retryAfterMs: null });
  });

  it("the rpm window slides: a slot frees exactly 60 s after the request that held it", async () => {
    const stub = limiter("rpm");
    const t = Date.UTC(2026, 10, 27, 12);
    for (const [i, at] of [t, t + 10_000].entries()) expect(await stub.admit({ requestId: `r${i}`, rpm: 2, estimatedTokens: 1, maxCostUsd: 0, now: at })).toMatchObject({ ok: true });
    expect(await stub.admit({ requestId: "r2", rpm: 2, estimatedTokens: 1, maxCostUsd: 0, now: t + 20_000 })).toMatchObject({ ok: false, reason: "requests", retryAfterMs: 40_000 });
    expect(await stub.admit({ requestId: "r3", rpm: 2, estimatedTokens: 1, maxCostUsd: 0, now: t + RATE_WINDOW_MS - 1 })).toMatchObject({ ok: false });
    expect(await stub.admit({ requestId: "r4", rpm: 2, estimatedTokens: 1, maxCostUsd: 0, now: t + RATE_WINDOW_MS })).toMatchObject({ ok: true, requests: { remaining: 0 } });
  });

  it("a refusal on one limit records nothing on the others", async () => {
    const stub = limiter("atomic");
    const t = Date.UTC(2026, 10, 27, 12);
    const budget = { usd: 1, period: "day" as const };
    expect(await stub.admit({ requestId: "a", rpm: 10, tpm: 100, budget, estimatedTokens: 90, maxCostUsd: 0.1, now: t })).toMatchObject({ ok: true });
    expect(await stub.admit({ requestId: "b", rpm: 10, tpm: 100, budget, estimatedTokens: 20, maxCostUsd: 0.1, now: t + 1 })).toMatchObject({ ok: false, reason: "tokens" });
    expect(await stub.snapshot(t + 2)).toMatchObject({ requestsInWindow: 1, tokensInWindow: 90, reservations: 1 });
  });

  it("a reservation that is never settled (a crashed request) is released after its TTL", async () => {
    const stub = limiter("stale");
    const t = Date.UTC(2026, 10, 27, 1);
    const budget = { usd: 1, period: "day" as const };
    await stub.admit({ requestId: "lost", budget, maxCostUsd: 1, estimatedTokens: 0, now: t });
    expect(await stub.admit({ requestId: "b", budget, maxCostUsd: 0.5, estimatedTokens: 0, now: t + 1_000 })).toMatchObject({ ok: false });
    expect(await stub.admit({ requestId: "c", budget, maxCostUsd: 0.5, estimatedTokens: 0, now: t + RESERVATION_TTL_MS + 1 })).toMatchObject({ ok: true });
  });
});
