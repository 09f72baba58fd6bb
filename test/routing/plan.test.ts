import { describe, expect, it } from "vitest";
import type { RoutingFacts } from "../../src/routing/conditions";
import { GatewayError } from "../../src/lib/errors";
import { HEALTHY, missingCapabilities, planDirect, planRoute, targetKey, type PlanInput, type TargetHealth } from "../../src/routing/plan";
import { seededRandom } from "../../src/routing/random";
import { RouteSchema, type Route, type Target } from "../../src/routing/schema";
import { EMBEDDINGS_NEEDS, SUPPORTS_ALL, chatNeeds, type Supports } from "../../src/schema/capabilities";
import type { ChatRequest } from "../../src/schema/internal";
import { priceOf } from "../../src/usage/pricing";

const routes = (input: Record<string, unknown>): Record<string, Route> => Object.fromEntries(Object.entries(input).map(([name, route]) => [name, RouteSchema.parse(route)]));

const facts = (over: Partial<RoutingFacts & { headers: Record<string, string>; maxTokens: number }> = {}): PlanInput["facts"] => {
  const headers = over.headers ?? {};
  return { model: over.model ?? "r", header: (name) => headers[name], metadata: over.metadata ?? {}, promptTokens: over.promptTokens ?? 10, maxTokens: over.maxTokens };
};

const TYPES: Record<string, string> = { openai: "openai", anthropic: "anthropic", oai2: "openai" };

function input(table: Record<string, Route>, over: Partial<PlanInput> = {}): PlanInput {
  return {
    routes: table,
    facts: facts(),
    random: seededRandom(42),
    health: () => HEALTHY,
    price: (target: Target) => priceOf(TYPES[target.provider] ?? target.provider, target.model),
    needs: ["chat"],
    supports: () => SUPPORTS_ALL,
    ...over,
  };
}

const keys = (plan: { attempts: { target: Target }[] }) => plan.attempts.map((attempt) => targetKey(attempt.target));

const A = { provider: "openai", model: "gpt-4o" };
const B = { provider: "anthropic", model: "claude-sonnet-4-5" };
const C = { provider: "openai", model: "gpt-4o-mini" };

describe("planRoute", () => {
  it("single and fallback keep the configured order", () => {
    const table = routes({ one: { strategy: "single", target: A }, chain: { strategy: "fallback", targets: [A, B, C] } });
    expect(keys(planRoute("one", input(table)))).toEqual(["openai/gpt-4o"]);
    expect(keys(planRoute("chain", input(table)))).toEqual(["openai/gpt-4o", "anthropic/claude-sonnet-4-5", "openai/gpt-4o-mini"]);
  });

  it("loadbalance follows the weights within tolerance over many draws, the rest following as fallbacks", () => {
    const table = routes({ lb: { strategy: "loadbalance", targets: [{ ...A, weight: 6 }, { ...B, weight: 3 }, { ...C, weight: 1 }] } });
    const random = seededRandom(7);
    const firsts: Record<string, number> = {};
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const order = keys(planRoute("lb", input(table, { random })));
      if (order.length !== 3) throw new Error(`every target belongs in the plan: ${order.join(",")}`);
      const first = order[0]!;
      firsts[first] = (firsts[first] ?? 0) + 1;
    }
    expect(Math.abs(firsts["openai/gpt-4o"]! / draws - 0.6)).toBeLessThan(0.02);
    expect(Math.abs(firsts["anthropic/claude-sonnet-4-5"]! / draws - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(firsts["openai/gpt-4o-mini"]! / draws - 0.1)).toBeLessThan(0.02);
  });

  it("a seeded random source makes loadbalance reproducible", () => {
    const table = routes({ lb: { strategy: "loadbalance", targets: [A, B, C] } });
    const first = seededRandom(99);
    const second = seededRandom(99);
    const a = Array.from({ length: 20 }, () => keys(planRoute("lb", input(table, { random: first }))).join(","));
    const b = Array.from({ length: 20 }, () => keys(planRoute("lb", input(table, { random: second }))).join(","));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(1);
  });

  describe("conditional", () => {
    const table = routes({
      cond: {
        strategy: "conditional",
        rules: [
          { when: { field: "header.x-tier", equals: "premium" }, then: A },
          { when: [{ field: "metadata.team", in: ["search", "ads"] }, { field: "promptTokens", lt: 1000 }], then: { route: "cheap" } },
          { when: { field: "promptTokens", gte: 1000 }, then: B },
          { when: { field: "model", matches: "^fast-" }, then: C },
        ],
        default: { route: "cheap" },
      },
      cheap: { strategy: "fallback", targets: [C, B] },
    });

    it("chooses by header", () => {
      expect(keys(planRoute("cond", input(table, { facts: facts({ headers: { "x-tier": "premium" } }) })))).toEqual(["openai/gpt-4o"]);
      expect(keys(planRoute("cond", input(table, { facts: facts({ headers: { "x-tier": "basic" } }) })))).toEqual(["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"]);
    });

    it("chooses a nested route by metadata when all conditions of the rule hold", () => {
      expect(keys(planRoute("cond", input(table, { facts: facts({ metadata: { team: "ads" }, promptTokens: 20 }) })))).toEqual(["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"]);
      // Same team, but a large prompt: the second rule fails, the third matches.
      expect(keys(planRoute("cond", input(table, { facts: facts({ metadata: { team: "ads" }, promptTokens: 5000 }) })))).toEqual(["anthropic/claude-sonnet-4-5"]);
    });

    it("chooses by estimated prompt size and by model", () => {
      expect(keys(planRoute("cond", input(table, { facts: facts({ promptTokens: 1000 }) })))).toEqual(["anthropic/claude-sonnet-4-5"]);
      expect(keys(planRoute("cond", input(table, { facts: facts({ model: "fast-lane" }) })))).toEqual(["openai/gpt-4o-mini"]);
    });

    it("falls to the default when no rule matches", () => {
      expect(keys(planRoute("cond", input(table, { facts: facts({ metadata: { team: "other" } }) })))).toEqual(["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"]);
    });

    it("exists and notEquals", () => {
      const t = routes({ c: { strategy: "conditional", rules: [{ when: { field: "header.x-debug", exists: true }, then: A }, { when: { field: "metadata.env", notEquals: "prod", exists: true }, then: B }], default: C } });
      expect(keys(planRoute("c", input(t, { facts: facts({ headers: { "x-debug": "" } }) })))).toEqual(["openai/gpt-4o"]);
      expect(keys(planRoute("c", input(t, { facts: facts({ metadata: { env: "dev" } }) })))).toEqual(["anthropic/claude-sonnet-4-5"]);
      expect(keys(planRoute("c", input(t, { facts: facts({ metadata: { env: "prod" } }) })))).toEqual(["openai/gpt-4o-mini"]);
      expect(keys(planRoute("c", input(t)))).toEqual(["openai/gpt-4o-mini"]);
    });
  });

  it("cost puts the cheapest priced target first and unpriced ones last", () => {
    const table = routes({ cheap: { strategy: "cost", targets: [{ provider: "openai", model: "unknown-model" }, A, B, C] } });
    expect(keys(planRoute("cheap", input(table)))).toEqual(["openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-sonnet-4-5", "openai/unknown-model"]);
  });

  it("cost weighs prompt and output estimates: a long prompt favours cheap input", () => {
    const table = routes({
      cheap: { strategy: "cost", targets: [{ provider: "openai", model: "gpt-4.1" }, { provider: "openai", model: "o4-mini" }] },
    });
    // gpt-4.1: 2 in / 8 out; o4-mini: 1.1 in / 4.4 out — o4-mini is cheaper either way.
    expect(keys(planRoute("cheap", input(table, { facts: facts({ promptTokens: 100_000, maxTokens: 10 }) })))[0]).toBe("openai/o4-mini");
    const custom = routes({ c: { strategy: "cost", targets: [A, C] } });
    const prices = (target: Target) => (target.model === "gpt-4o" ? { input: 1, output: 100 } : { input: 10, output: 1 });
    expect(keys(planRoute("c", input(custom, { price: prices, facts: facts({ promptTokens: 1000, maxTokens: 10 }) })))[0]).toBe("openai/gpt-4o");
    expect(keys(planRoute("c", input(custom, { price: prices, facts: facts({ promptTokens: 10, maxTokens: 1000 }) })))[0]).toBe("openai/gpt-4o-mini");
  });

  it("cost skips an open cheapest target", () => {
    const table = routes({ cheap: { strategy: "cost", targets: [A, B, C] } });
    const health = (target: Target): TargetHealth => (targetKey(target) === "openai/gpt-4o-mini" ? { open: true, lastFailureAt: 1, latencyMs: null } : HEALTHY);
    const plan = planRoute("cheap", input(table, { health }));
    expect(keys(plan)).toEqual(["openai/gpt-4o", "anthropic/claude-sonnet-4-5"]);
    expect(plan.skipped).toEqual([C]);
  });

  it("latency orders by measured latency, unmeasured first", () => {
    const table = routes({ fast: { strategy: "latency", targets: [A, B, C] } });
    const latencies: Record<string, number | null> = { "openai/gpt-4o": 900, "anthropic/claude-sonnet-4-5": 120, "openai/gpt-4o-mini": 400 };
    const health = (target: Target): TargetHealth => ({ open: false, lastFailureAt: null, latencyMs: latencies[targetKey(target)] ?? null });
    expect(keys(planRoute("fast", input(table, { health })))).toEqual(["anthropic/claude-sonnet-4-5", "openai/gpt-4o-mini", "openai/gpt-4o"]);
    latencies["openai/gpt-4o-mini"] = null;
    expect(keys(planRoute("fast", input(table, { health })))[0]).toBe("openai/gpt-4o-mini");
  });

  it("skips open circuits; when all are open, tries the least recently failed one", () => {
    const table = routes({ chain: { strategy: "fallback", targets: [A, B, C] } });
    const failedAt: Record<string, number> = { "openai/gpt-4o": 300, "anthropic/claude-sonnet-4-5": 100, "openai/gpt-4o-mini": 200 };
    const someOpen = (target: Target): TargetHealth => ({ open: targetKey(target) !== "openai/gpt-4o-mini", lastFailureAt: failedAt[targetKey(target)]!, latencyMs: null });
    expect(keys(planRoute("chain", input(table, { health: someOpen })))).toEqual(["openai/gpt-4o-mini"]);
    const allOpen = (target: Target): TargetHealth => ({ open: true, lastFailureAt: failedAt[targetKey(target)]!, latencyMs: null });
    const plan = planRoute("chain", input(table, { health: allOpen }));
    expect(keys(plan)).toEqual(["anthropic/claude-sonnet-4-5"]);
    expect(plan.skipped).toHaveLength(2);
  });

  it("nested routes expand with their own strategy; each target is tried once", () => {
    const table = routes({
      outer: { strategy: "fallback", targets: [{ route: "inner" }, A, C] },
      inner: { strategy: "fallback", targets: [B, A] },
    });
    expect(keys(planRoute("outer", input(table)))).toEqual(["anthropic/claude-sonnet-4-5", "openai/gpt-4o", "openai/gpt-4o-mini"]);
  });

  it("retry and timeout: the innermost setting wins (retry as a whole, timeouts per field)", () => {
    const table = routes({
      outer: { strategy: "fallback", retry: { attempts: 2 }, timeout: { totalMs: 9000, connectMs: 1000 }, targets: [{ route: "inner" }, { ...C, retry: { attempts: 4 }, timeout: { connectMs: 50 } }] },
      inner: { strategy: "single", timeout: { firstByteMs: 700 }, target: B },
    });
    const plan = planRoute("outer", input(table));
    expect(plan.attempts.map((attempt) => [attempt.retry.attempts, attempt.timeout, attempt.route])).toEqual([
      [2, { totalMs: 9000, connectMs: 1000, firstByteMs: 700 }, "inner"],
      [4, { totalMs: 9000, connectMs: 50 }, "outer"],
    ]);
  });

  it("a direct target gets the defaults: one attempt, the default total budget", () => {
    const plan = planDirect(A, input({}));
    expect(plan.attempts).toEqual([{ target: A, retry: expect.objectContaining({ attempts: 1 }), timeout: { totalMs: 600_000 }, route: undefined }]);
  });
});

describe("planning against what targets support", () => {
  // The anthropic target serves no embeddings; gpt-4o-mini here is a server without tools or images.
  const supports = (target: Target): Supports =>
    target.provider === "anthropic" ? { ...SUPPORTS_ALL, embeddings: false } : target.model === "gpt-4o-mini" ? { ...SUPPORTS_ALL, tools: false, vision: false } : SUPPORTS_ALL;
  const refusal = (plan: () => unknown): GatewayError => {
    try {
      plan();
    } catch (error) {
      if (error instanceof GatewayError) return error;
      throw error;
    }
    throw new Error("planning should have refused the request");
  };
  const chat = (over: Partial<ChatRequest>): ChatRequest => ({ model: "r", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], stream: false, includeUsage: false, ...over });

  it("a request needs chat, plus streaming, tools and images only when it uses them", () => {
    expect(chatNeeds(chat({}))).toEqual(["chat"]);
    const image = { type: "image" as const, source: { kind: "url" as const, url: "https://example.com/a.png" } };
    const tool = { name: "lookup", parameters: { type: "object" } };
    expect(chatNeeds(chat({ stream: true, tools: [tool], messages: [{ role: "user", content: [image] }] }))).toEqual(["chat", "stream", "tools", "vision"]);
    expect(chatNeeds(chat({ tools: [] }))).toEqual(["chat"]);
    expect(missingCapabilities(["chat", "tools", "vision"], { ...SUPPORTS_ALL, vision: false, tools: false })).toEqual(["tools", "vision"]);
  });

  it("fallback and loadbalance pass over a target that cannot serve the request to the next one", () => {
    const table = routes({ chain: { strategy: "fallback", targets: [C, B, A] }, lb: { strategy: "loadbalance", targets: [{ ...C, weight: 100 }, { ...A, weight: 1 }] } });
    const plan = planRoute("chain", input(table, { needs: ["chat", "tools"], supports }));
    expect(keys(plan)).toEqual(["anthropic/claude-sonnet-4-5", "openai/gpt-4o"]);
    expect(plan.unsupported).toEqual([{ target: C, missing: ["tools"] }]);
    expect(keys(planRoute("lb", input(table, { needs: ["chat", "vision"], supports })))).toEqual(["openai/gpt-4o"]);
    expect(keys(planRoute("chain", input(table, { needs: ["chat"], supports })))).toEqual(["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "openai/gpt-4o"]);
  });

  it("a single target that cannot serve the request is refused with a 400 naming it", () => {
    const table = routes({ one: { strategy: "single", target: C } });
    const error = refusal(() => planRoute("one", input(table, { needs: ["chat", "tools"], supports })));
    expect([error.status, error.code, error.param, error.message]).toEqual([400, "unsupported_operation", "tools", 'Route "one": its target "openai/gpt-4o-mini" does not support tools.']);
    const direct = refusal(() => planDirect(B, input({}, { needs: EMBEDDINGS_NEEDS, supports })));
    expect([direct.status, direct.code, direct.param, direct.message]).toEqual([400, "unsupported_operation", "model", 'The target "anthropic/claude-sonnet-4-5" does not support embeddings.']);
    const image = refusal(() => planDirect(C, input({}, { needs: ["chat", "vision"], supports })));
    expect([image.code, image.param]).toEqual(["unsupported_content", "messages"]);
  });

  it("a route with no target able to serve the request names every target and what it lacks", () => {
    const table = routes({ both: { strategy: "fallback", targets: [B, { route: "mini" }] }, mini: { strategy: "single", target: C } });
    const error = refusal(() => planRoute("both", input(table, { needs: ["chat", "embeddings", "tools"], supports })));
    expect(error.status).toBe(400);
    expect(error.message).toBe('No target of route "both" can serve this request: "anthropic/claude-sonnet-4-5" does not support embeddings; "openai/gpt-4o-mini" does not support tools.');
  });

  it("capability comes before health: an open but capable target is still tried rather than an unsupported healthy one", () => {
    const table = routes({ chain: { strategy: "fallback", targets: [C, A] } });
    const health = (target: Target): TargetHealth => (targetKey(target) === "openai/gpt-4o" ? { open: true, lastFailureAt: 5, latencyMs: null } : HEALTHY);
    const plan = planRoute("chain", input(table, { needs: ["chat", "tools"], supports, health }));
    expect(keys(plan)).toEqual(["openai/gpt-4o"]);
    expect(plan.unsupported.map((entry) => entry.target)).toEqual([C]);
  });
});
