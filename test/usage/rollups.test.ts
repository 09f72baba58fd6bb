import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { UsageEventSchema, type UsageEvent } from "../../src/usage/event";
import { BUCKET_COLUMNS, UPPER_BOUNDS_MS, bucketOf, percentileOf } from "../../src/usage/latency-histogram";
import { segmentsOf } from "../../src/usage/query-rollups";
import { writeUsageEvents } from "../../src/usage/store";
import { admin, callGateway, gateway, newWorkspace, simulatorProviders, type TestWorkspace } from "../helpers";
import { uniqueId, usageRowFor, workspaceRows } from "./usage-helpers";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

type Figures = { requests: number; promptTokens: number; costUsd: number | null; errors: number; latencyMs: { p50: number | null; p95: number | null; p99: number | null } };
type Report = { from: string; to: string; source: "rollups" | "events"; totals: Figures; groups: (Figures & { key: string })[] };
const usage = async (path: string): Promise<Report> => {
  const res = await admin(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Report;
};
const groupsOf = (report: Report) => Object.fromEntries(report.groups.map((g) => [g.key, g.requests]));

function event(workspaceId: string, overrides: Partial<UsageEvent> = {}): UsageEvent {
  return UsageEventSchema.parse({
    v: 1, requestId: uniqueId("req"), clientRequestId: null, time: new Date().toISOString(), workspaceId, keyId: "key_a", route: "smart", operation: "chat",
    attempts: [{ provider: "openai", model: "gpt-4o-mini", status: 200, outcome: "success", latencyMs: 100, startMs: 1 }], answeredBy: { provider: "openai", model: "gpt-4o-mini" },
    usage: { promptTokens: 100, completionTokens: 20, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, usageEstimated: false, costUsd: 0.001, cacheStatus: null, savedTokens: 0,
    savedUsd: null, coalesced: false, stream: false, ttfbMs: 50, totalMs: 120, overheadMs: 1, status: 200, outcome: "success", errorType: null, rescued: false, ...overrides,
  });
}

/** Through the real usage consumer (declared metadata keys come from the workspace config). */
async function consume(events: UsageEvent[]) {
  const batch = createMessageBatch("switchyard-usage", events.map((body, i) => ({ id: `m-${body.requestId}-${i}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; param: string | null; code: string | null; type: string } }).error;

describe("request metadata", () => {
  it("refuses a malformed x-switchyard-metadata header or body metadata with a 400 naming it", async () => {
    const ws = await newWorkspace();
    const chat = (headers: Record<string, string>, extra: Record<string, unknown> = {}) => callGateway(ws.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "hi" }], ...extra }, headers);
    const header = (value: string) => chat({ "x-switchyard-metadata": value });
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    for (const [res, pattern] of [
      [await header("{not json"), /not valid JSON/],
      [await header("[\"a\"]"), /JSON object/],
      [await header(JSON.stringify({ team: 7 })), /'team': values must be strings/],
      [await header(JSON.stringify({ "bad key": "x" })), /metadata keys are/],
      [await header(JSON.stringify({ team: "x".repeat(513) })), /at most 512/],
      [await header(JSON.stringify(tooMany)), /at most 16/],
    ] as const) {
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error).toMatchObject({ param: "x-switchyard-metadata", code: "invalid_metadata", type: "invalid_request_error" });
      expect(error.message).toMatch(pattern);
    }
    const body = await chat({}, { metadata: { team: 1 } });
    expect(body.status).toBe(400);
    expect((await errorOf(body)).param).toBe("metadata.team");
    const together = await chat({ "x-switchyard-metadata": JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`h${i}`, "v"]))) }, { metadata: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`b${i}`, "v"])) });
    expect(together.status).toBe(400);
    expect((await errorOf(together)).param).toBe("metadata");
    const longUser = await chat({}, { user: "u".repeat(257) });
    expect((await errorOf(longUser)).param).toBe("user");
    const anthropic = await callGateway(ws.key, "/v1/messages", { model: "smart", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }, { "x-switchyard-metadata": "nope" });
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  it("stores header and body metadata (the body wins a shared key) and the end user on the usage event; routing sees both", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { smart: { strategy: "conditional", rules: [{ when: { field: "metadata.team", equals: "search" }, then: { provider: "anthropic", model: "claude-sonnet-4-5" } }], default: { provider: "openai", model: "gpt-4o-mini" } } },
    }));
    const id = uniqueId("meta");
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "hi" }], metadata: { feature: "autocomplete" }, user: "user-42" }, {
      "x-request-id": id,
      "x-switchyard-metadata": JSON.stringify({ team: "search", feature: "from-header" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("anthropic");
    const row = await usageRowFor(id);
    const stored = await env.USAGE_DB.prepare("SELECT metadata, end_user FROM usage_events WHERE request_id = ?").bind(row.request_id).first<{ metadata: string; end_user: string }>();
    expect(JSON.parse(stored!.metadata)).toEqual({ team: "search", feature: "autocomplete" });
    expect(stored!.end_user).toBe("user-42");

    const embed = uniqueId("embed");
    const embedded = await callGateway(ws.key, "/v1/embeddings", { model: "openai/text-embedding-3-small", input: "hello", user: "user-43" }, { "x-request-id": embed, "x-switchyard-metadata": JSON.stringify({ team: "ads" }) });
    expect(embedded.status).toBe(200);
    const embedRow = await usageRowFor(embed);
    const embedStored = await env.USAGE_DB.prepare("SELECT metadata, end_user FROM usage_events WHERE request_id = ?").bind(embedRow.request_id).first<{ metadata: string; end_user: string }>();
    expect(JSON.parse(embedStored!.metadata)).toEqual({ team: "ads" });
    expect(embedStored!.end_user).toBe("user-43");
  });
});

describe("hourly and daily rollups", () => {
  it("bucket latencies in SQL exactly as src/usage/latency-histogram.ts does", async () => {
    const ws = `ws-buckets-${uniqueId("b")}`;
    const latencies = [0, 0.5, 1, 1.249, 1.25, 3.15, 99.9, 100, 999.99, 80000, 99999.9, 100000, 250000, ...UPPER_BOUNDS_MS.map((b) => b - 0.001)];
    await writeUsageEvents(env.USAGE_DB, latencies.map((totalMs, i) => ({ event: event(ws, { totalMs, keyId: `k${i}` }), deliveryAttempts: 1 })));
    const { results } = await env.USAGE_DB.prepare(`SELECT key_id, ${BUCKET_COLUMNS.join(", ")} FROM usage_rollup_hourly WHERE workspace_id = ?`).bind(ws).all<Record<string, number | string>>();
    for (const [i, totalMs] of latencies.entries()) {
      const row = results.find((r) => r.key_id === `k${i}`)!;
      const bucket = BUCKET_COLUMNS.findIndex((c) => row[c] === 1);
      expect(bucket, `bucket of ${totalMs} ms`).toBe(bucketOf(totalMs));
    }
    expect(percentileOf([0, 0, 3], 50, 1.3, 1.5)).toBeCloseTo(Math.sqrt(1.25 * 1.6), 3);
    expect(percentileOf([0, 0, 3], 50, 1.3, 1.35)).toBe(1.35);
  });

  it("are written once per event, however often it is delivered, and agree with the raw events", async () => {
    const ws = `ws-once-${uniqueId("o")}`;
    const events = [event(ws), event(ws, { costUsd: null, answeredBy: { provider: "openai", model: "house" } }), event(ws, { status: 502, outcome: "error", answeredBy: null, costUsd: 0, usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } })];
    await consume(events);
    await consume(events);
    const hourly = await env.USAGE_DB.prepare("SELECT SUM(requests) AS n, SUM(prompt_tokens) AS p, SUM(priced) AS priced, SUM(errors) AS errors FROM usage_rollup_hourly WHERE workspace_id = ?").bind(ws).first();
    const daily = await env.USAGE_DB.prepare("SELECT SUM(requests) AS n, SUM(prompt_tokens) AS p, SUM(priced) AS priced, SUM(errors) AS errors FROM usage_rollup_daily WHERE workspace_id = ?").bind(ws).first();
    expect(hourly).toEqual({ n: 3, p: 200, priced: 2, errors: 1 });
    expect(daily).toEqual(hourly);
  });

  it("the usage API groups and filters by declared metadata keys from the rollups, and by others from raw events within their retention", async () => {
    const ws: TestWorkspace = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
      usage: { metadataKeys: ["team"] },
    }));
    const tagged = (team: string, feature: string) => JSON.stringify({ team, feature });
    for (const [team, feature] of [["search", "a"], ["search", "b"], ["ads", "a"]] as const) {
      const res = await callGateway(ws.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: `${team} ${feature}` }] }, { "x-switchyard-metadata": tagged(team, feature) });
      expect(res.status).toBe(200);
    }
    await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "untagged" }] });
    await workspaceRows(ws.id, 4);

    const byTeam = await usage(`/workspaces/${ws.id}/usage?groupBy=metadata.team`);
    expect(byTeam.source).toBe("rollups");
    expect(groupsOf(byTeam)).toEqual({ search: 2, ads: 1, "(none)": 1 });
    const searchOnly = await usage(`/workspaces/${ws.id}/usage?metadata.team=search&groupBy=route`);
    expect(searchOnly.totals.requests).toBe(2);
    expect(groupsOf(searchOnly)).toEqual({ smart: 2 });
    expect((await usage(`/workspaces/${ws.id}/usage?route=(direct)`)).totals.requests).toBe(1);
    expect((await usage(`/workspaces/${ws.id}/usage?status=2xx&provider=openai&model=gpt-4o-mini`)).totals.requests).toBe(4);
    expect((await usage(`/workspaces/${ws.id}/usage?status=5xx`)).totals.requests).toBe(0);

    const byFeature = await usage(`/workspaces/${ws.id}/usage?groupBy=metadata.feature&from=${new Date(Date.now() - DAY_MS).toISOString()}`);
    expect(byFeature.source).toBe("events");
    expect(groupsOf(byFeature)).toEqual({ a: 2, b: 1, "(none)": 1 });
    const featureInTeam = await usage(`/workspaces/${ws.id}/usage?groupBy=metadata.team&metadata.feature=a&from=${new Date(Date.now() - DAY_MS).toISOString()}`);
    expect(groupsOf(featureInTeam)).toEqual({ search: 1, ads: 1 });

    const tooOld = await admin(`/workspaces/${ws.id}/usage?groupBy=metadata.feature&from=2020-01-01`);
    expect(tooOld.status).toBe(400);
    expect(await errorOf(tooOld)).toMatchObject({ param: "from", code: "beyond_raw_retention" });
    const badKey = await admin(`/workspaces/${ws.id}/usage?groupBy=metadata.bad%20key`);
    expect((await errorOf(badKey)).param).toBe("groupBy");
    const badFilter = await admin(`/workspaces/${ws.id}/usage?metadata.bad%20key=1`);
    expect(badFilter.status).toBe(400);
  });
});

describe("retention", () => {
  it("the cron job deletes raw events and hourly rollups past their retention; usage is still answered from daily rollups", async () => {
    const ws = await newWorkspace();
    const now = Date.now();
    const old = [40, 45].map((days) => event(ws.id, { time: new Date(now - days * DAY_MS).toISOString(), costUsd: 0.5, bodies: { request: "old prompt", response: "old answer", truncated: false } }));
    const ancient = event(ws.id, { time: new Date(now - 120 * DAY_MS).toISOString(), costUsd: 0.25 });
    const recent = event(ws.id, { time: new Date(now - HOUR_MS).toISOString(), costUsd: 0.125 });
    await consume([...old, ancient, recent]);
    const countIn = async (table: string) => (await env.USAGE_DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE workspace_id = ?`).bind(ws.id).first<{ n: number }>())!.n;
    expect(await countIn("usage_events")).toBe(4);
    expect(await countIn("usage_bodies")).toBe(2);
    const range = `from=${new Date(now - 150 * DAY_MS).toISOString().slice(0, 10)}`;
    const before = await usage(`/workspaces/${ws.id}/usage?${range}&groupBy=day`);

    const controller = createScheduledController({ scheduledTime: new Date(now), cron: "*/15 * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);

    expect(await countIn("usage_events")).toBe(1);
    expect(await countIn("usage_bodies")).toBe(0);
    expect(await countIn("usage_rollup_hourly")).toBe(3);
    expect(await countIn("usage_rollup_daily")).toBe(4);
    const after = await usage(`/workspaces/${ws.id}/usage?${range}&groupBy=day`);
    expect(after.source).toBe("rollups");
    expect(after.totals.requests).toBe(4);
    expect(after.totals.costUsd).toBeCloseTo(1.375, 9);
    expect(after.groups).toEqual(before.groups);
    const logs = (await (await admin(`/workspaces/${ws.id}/logs`)).json()) as { data: { requestId: string }[] };
    expect(logs.data.map((l) => l.requestId)).toEqual([recent.requestId]);
  });

  it("reads whole days from the daily rollups and the hours at either end from the hourly ones, whole days past the hourly retention", () => {
    const day = Date.UTC(2026, 0, 10);
    expect(segmentsOf(day + 5 * HOUR_MS + 10, day + 2 * DAY_MS + 3 * HOUR_MS, 0)).toEqual([
      { table: "usage_rollup_hourly", from: day + 5 * HOUR_MS, to: day + DAY_MS },
      { table: "usage_rollup_daily", from: day + DAY_MS, to: day + 2 * DAY_MS },
      { table: "usage_rollup_hourly", from: day + 2 * DAY_MS, to: day + 2 * DAY_MS + 3 * HOUR_MS },
    ]);
    expect(segmentsOf(day + HOUR_MS, day + 2 * HOUR_MS, 0)).toEqual([{ table: "usage_rollup_hourly", from: day + HOUR_MS, to: day + 2 * HOUR_MS }]);
    expect(segmentsOf(day + 5 * HOUR_MS, day + 2 * DAY_MS + 3 * HOUR_MS, day + DAY_MS)).toEqual([
      { table: "usage_rollup_daily", from: day, to: day + 2 * DAY_MS },
      { table: "usage_rollup_hourly", from: day + 2 * DAY_MS, to: day + 2 * DAY_MS + 3 * HOUR_MS },
    ]);
    expect(segmentsOf(day + 5 * HOUR_MS, day + 7 * HOUR_MS, day + DAY_MS)).toEqual([{ table: "usage_rollup_daily", from: day, to: day + DAY_MS }]);
  });

  it("needs the admin token", async () => {
    expect((await gateway("/admin/workspaces/default/logs")).status).toBe(401);
  });
});
