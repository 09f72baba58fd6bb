import { describe, expect, it } from "vitest";
import { emptyUsage } from "../../src/schema/internal";
import { estimateChatRequest } from "../../src/usage/estimate";
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

  it("dense scripts cannot carry spend past the budget: 3,000-character CJK prompts are reserved at what the provider bills", async () => {
    const ws = await newWorkspace();
    const budgetUsd = 0.001;
    const key = await addKey(ws.id, { budget: { usd: budgetUsd, period: "month" } });
    // The simulators bill 1.5 tokens per CJK character, as dense-script tokenizers do: 4,500 prompt tokens each.
    const body = hello("请总结这份季度报告的要点。".repeat(250), { max_tokens: 10 });
    const maxCost = costOf({ ...emptyUsage(), promptTokens: estimateChatRequest({ messages: [{ role: "user", content: [{ type: "text", text: body.messages[0]!.content }] }], maxTokens: 10 }).promptTokens, completionTokens: 10 }, price)!;
    let admitted = 0;
    for (let wave = 0; wave < 3; wave++) {
      const statuses = await Promise.all(Array.from({ length: 6 }, () => callGateway(key.key, "/v1/chat/completions", body).then(async (res) => (await res.arrayBuffer(), res.status))));
      admitted += statuses.filter((s) => s === 200).length;
      await settledLimiter(ws.id, key.id);
    }
    const spent = (await settledLimiter(ws.id, key.id)).spend[0]!.usd;
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThanOrEqual(budgetUsd + maxCost);
    expect((await upstreamRequests(ws.scenario)).length).toBe(admitted);
  });

  it("a budgeted key cannot call an unpriced model (its cost could not be bounded)", async () => {
    const ws = await newWorkspace();
    const key = await addKey(ws.id, { budget: { usd: 1, period: "total" } });
    const res = await callGateway(key.key, "/v1/chat/completions", { ...REQUEST, model: "openai/some-unpriced-model" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "unpriced_model", param: "model" });
  });
});
