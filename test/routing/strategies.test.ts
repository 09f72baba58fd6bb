import { describe, expect, it } from "vitest";
import { BACKUP, PRIMARY, chat, countRequests, routingWorkspace } from "./setup";

describe("loadbalance", () => {
  it("spreads requests by weight, each answered by the target drawn", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "loadbalance", targets: [{ ...PRIMARY, weight: 3 }, { ...BACKUP, weight: 1 }] } } });
    const answeredBy: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const res = await chat(ws);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-switchyard-attempts")).toBe("1");
      const provider = res.headers.get("x-switchyard-provider")!;
      answeredBy[provider] = (answeredBy[provider] ?? 0) + 1;
      await res.arrayBuffer();
    }
    // Binomial(40, 0.75): outside [20, 39] has a probability below 1e-4.
    expect(answeredBy.primary).toBeGreaterThanOrEqual(20);
    expect(answeredBy.backup).toBeGreaterThanOrEqual(1);
    expect(await countRequests(ws.primary)).toBe(answeredBy.primary);
    expect(await countRequests(ws.backup)).toBe(answeredBy.backup);
  });
});

describe("conditional", () => {
  const config = {
    routes: {
      r: {
        strategy: "conditional" as const,
        rules: [
          { when: { field: "header.x-tier", equals: "premium" }, then: BACKUP },
          { when: { field: "metadata.team", in: ["search"] }, then: { route: "search" } },
        ],
        default: PRIMARY,
      },
      search: { strategy: "fallback" as const, targets: [BACKUP, PRIMARY] },
    },
  };

  it("routes by a request header", async () => {
    const ws = await routingWorkspace(config);
    const premium = await chat(ws, {}, { "x-tier": "premium" });
    expect(premium.headers.get("x-switchyard-provider")).toBe("backup");
    const basic = await chat(ws, {}, { "x-tier": "basic" });
    expect(basic.headers.get("x-switchyard-provider")).toBe("primary");
  });

  it("routes by metadata to a nested route", async () => {
    const ws = await routingWorkspace(config);
    const search = await chat(ws, { metadata: { team: "search" } });
    expect(search.headers.get("x-switchyard-provider")).toBe("backup");
    const other = await chat(ws, { metadata: { team: "ads" } });
    expect(other.headers.get("x-switchyard-provider")).toBe("primary");
  });
});

describe("cost", () => {
  it("sends the request to the cheapest priced target", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "cost", targets: [{ provider: "backup", model: "claude-sonnet-4-5" }, { provider: "primary", model: "gpt-4o-mini" }] } } });
    const res = await chat(ws);
    expect(res.headers.get("x-switchyard-provider")).toBe("primary");
    expect(res.headers.get("x-switchyard-model")).toBe("gpt-4o-mini");
  });
});
