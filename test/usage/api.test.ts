import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { UsageEventSchema } from "../../src/usage/event";
import { writeUsageEvents } from "../../src/usage/store";
import { admin, callGateway, gateway, newWorkspace, scriptFaults, type TestWorkspace } from "../helpers";
import { workspaceRows } from "./usage-helpers";

type Figures = { requests: number; promptTokens: number; completionTokens: number; costUsd: number | null; cacheHits: number; savedUsd: number; rescued: number; errors: number; unpricedRequests: number; latencyMs: { p50: number | null; p95: number | null; p99: number | null } };
type Report = { totals: Figures; groups: (Figures & { key: string })[] };

const usageOf = async (path: string): Promise<Report> => {
  const res = await admin(path);
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
};

type Made = { keyId: string; route: string; provider: string; model: string; prompt: number; completion: number; cost: number | null; ok: boolean };

describe("GET /admin/workspaces/:id/usage", () => {
  let ws: TestWorkspace;
  let secondKey: { id: string; key: string };
  const made: Made[] = [];
  const cachedHit = { prompt: 40, completion: 10, savedUsd: (40 * 0.15 + 10 * 0.6) / 1e6 };

  beforeAll(async () => {
    ws = await newWorkspace();
    secondKey = (await (await admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: JSON.stringify({ name: "second" }) })).json()) as { id: string; key: string };
    const chat = async (key: string, keyId: string, model: string, content: string, expected: Omit<Made, "keyId" | "prompt" | "completion" | "cost" | "ok">, price: { input: number; output: number } | null) => {
      const res = await callGateway(key, "/v1/chat/completions", { model, messages: [{ role: "user", content }] });
      if (res.status !== 200) {
        made.push({ keyId, ...expected, prompt: 0, completion: 0, cost: 0, ok: false });
        return;
      }
      const { usage } = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
      const cost = price ? (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6 : null;
      made.push({ keyId, ...expected, prompt: usage.prompt_tokens, completion: usage.completion_tokens, cost, ok: true });
    };
    const mini = { input: 0.15, output: 0.6 };
    await chat(ws.key, ws.keyId, "smart", "first question", { route: "smart", provider: "openai", model: "gpt-4o-mini" }, mini);
    await chat(ws.key, ws.keyId, "smart", "a second, longer question for the route", { route: "smart", provider: "openai", model: "gpt-4o-mini" }, mini);
    await chat(secondKey.key, secondKey.id, "anthropic/claude-sonnet-4-5", "hello claude", { route: "(direct)", provider: "anthropic", model: "claude-sonnet-4-5" }, { input: 3, output: 15 });
    await chat(secondKey.key, secondKey.id, "openai/sim-unpriced", "unpriced please", { route: "(direct)", provider: "openai", model: "sim-unpriced" }, null);
    await scriptFaults(ws.scenario, [{ status: 500 }]);
    await chat(ws.key, ws.keyId, "smart", "this one fails", { route: "smart", provider: "(none)", model: "(none)" }, null);
    // A cache hit that rescued nothing and a rescued request, as the pipeline would record them.
    const base = { v: 1, workspaceId: ws.id, keyId: ws.keyId, route: "smart", operation: "chat", answeredBy: { provider: "openai", model: "gpt-4o-mini" }, usageEstimated: false, coalesced: false, stream: false, ttfbMs: 5, totalMs: 5, overheadMs: 1, status: 200, outcome: "success", errorType: null, time: new Date().toISOString(), clientRequestId: null };
    const attempt = { provider: "openai", model: "gpt-4o-mini", status: 200, outcome: "success", latencyMs: 3 };
    const hit = UsageEventSchema.parse({ ...base, requestId: `req_hit_${ws.id}`, attempts: [], usage: { promptTokens: cachedHit.prompt, completionTokens: cachedHit.completion, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, costUsd: 0, cacheStatus: "HIT", savedTokens: 50, savedUsd: cachedHit.savedUsd, rescued: false });
    const rescued = UsageEventSchema.parse({ ...base, requestId: `req_rescued_${ws.id}`, attempts: [{ ...attempt, status: 503, outcome: "http_error" }, attempt], usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, costUsd: 0, cacheStatus: null, savedTokens: 0, savedUsd: null, rescued: true });
    await writeUsageEvents(env.USAGE_DB, [{ event: hit, deliveryAttempts: 1 }, { event: rescued, deliveryAttempts: 1 }]);
    await workspaceRows(ws.id, made.length + 2);
  }, 60_000);

  const sum = (rows: Made[], pick: (m: Made) => number) => rows.reduce((total, m) => total + pick(m), 0);

  it("totals match the requests made", async () => {
    const { totals, groups } = await usageOf(`/workspaces/${ws.id}/usage`);
    expect(groups).toEqual([]);
    expect(totals.requests).toBe(made.length + 2);
    expect(totals.promptTokens).toBe(sum(made, (m) => m.prompt) + cachedHit.prompt);
    expect(totals.completionTokens).toBe(sum(made, (m) => m.completion) + cachedHit.completion);
    expect(totals.costUsd).toBeCloseTo(sum(made, (m) => m.cost ?? 0), 12);
    expect(totals.unpricedRequests).toBe(made.filter((m) => m.cost === null).length);
    expect(totals.cacheHits).toBe(1);
    expect(totals.savedUsd).toBeCloseTo(cachedHit.savedUsd, 12);
    expect(totals.rescued).toBe(1);
    expect(totals.errors).toBe(made.filter((m) => !m.ok).length);
    expect(totals.latencyMs.p50).not.toBeNull();
    expect(totals.latencyMs.p99!).toBeGreaterThanOrEqual(totals.latencyMs.p50!);
  });

  it("groups by key, route, provider, model and day", async () => {
    const byKey = await usageOf(`/workspaces/${ws.id}/usage?groupBy=key`);
    const first = byKey.groups.find((g) => g.key === ws.keyId)!;
    const second = byKey.groups.find((g) => g.key === secondKey.id)!;
    expect(first.requests).toBe(made.filter((m) => m.keyId === ws.keyId).length + 2);
    expect(second.requests).toBe(made.filter((m) => m.keyId === secondKey.id).length);
    expect(second.promptTokens).toBe(sum(made.filter((m) => m.keyId === secondKey.id), (m) => m.prompt));

    const byRoute = await usageOf(`/workspaces/${ws.id}/usage?groupBy=route`);
    expect(Object.fromEntries(byRoute.groups.map((g) => [g.key, g.requests]))).toEqual({ smart: made.filter((m) => m.route === "smart").length + 2, "(direct)": made.filter((m) => m.route === "(direct)").length });

    const byModel = await usageOf(`/workspaces/${ws.id}/usage?groupBy=model`);
    const sonnet = byModel.groups.find((g) => g.key === "anthropic/claude-sonnet-4-5")!;
    const sonnetMade = made.filter((m) => m.model === "claude-sonnet-4-5");
    expect(sonnet.costUsd).toBeCloseTo(sum(sonnetMade, (m) => m.cost ?? 0), 12);
    const unpriced = byModel.groups.find((g) => g.key === "openai/sim-unpriced")!;
    expect(unpriced.costUsd).toBeNull();
    expect(unpriced.unpricedRequests).toBe(1);

    const byProvider = await usageOf(`/workspaces/${ws.id}/usage?groupBy=provider`);
    expect(byProvider.groups.find((g) => g.key === "anthropic")?.requests).toBe(sonnetMade.length);

    const byDay = await usageOf(`/workspaces/${ws.id}/usage?groupBy=day`);
    expect(byDay.groups.map((g) => g.key)).toEqual([new Date().toISOString().slice(0, 10)]);
    expect(byDay.groups[0]!.requests).toBe(made.length + 2);
  });

  it("filters by key and by time window", async () => {
    const filtered = await usageOf(`/workspaces/${ws.id}/usage?keyId=${secondKey.id}`);
    expect(filtered.totals.requests).toBe(made.filter((m) => m.keyId === secondKey.id).length);
    const past = await usageOf(`/workspaces/${ws.id}/usage?from=2020-01-01&to=2020-01-31`);
    expect(past.totals.requests).toBe(0);
    expect(past.totals.costUsd).toBe(0);
  });

  it("rejects a bad query with a 400 naming the parameter", async () => {
    for (const [query, param] of [["groupBy=team", "groupBy"], ["from=yesterday", "from"], ["to=2026-13-45", "to"], ["from=2026-02-01&to=2026-01-01", "from"]] as const) {
      const res = await admin(`/workspaces/${ws.id}/usage?${query}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { param: string; message: string } };
      expect(body.error.param).toBe(param);
      expect(body.error.message).toContain(param);
    }
  });

  it("needs the admin token and an existing workspace", async () => {
    expect((await gateway(`/admin/workspaces/${ws.id}/usage`)).status).toBe(401);
    expect((await gateway(`/admin/workspaces/${ws.id}/usage`, { headers: { authorization: `Bearer ${ws.key}` } })).status).toBe(401);
    expect((await admin("/workspaces/no-such-workspace/usage")).status).toBe(404);
  });
});
