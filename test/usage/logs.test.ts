import { beforeAll, describe, expect, it } from "vitest";
import { admin, callGateway, gateway, newWorkspace, scriptFaults, simulatorProviders, type TestWorkspace } from "../helpers";
import { uniqueId, workspaceRows } from "./usage-helpers";

type Attempt = { provider: string; model: string; status: number | null; outcome: string; latencyMs: number; startMs?: number };
type Entry = { requestId: string; clientRequestId: string | null; time: string; keyId: string; route: string | null; provider: string | null; model: string | null; status: number; outcome: string; cacheStatus: string | null; totalMs: number; metadata: Record<string, string>; user: string | null; attemptCount: number };
type Page = { data: Entry[]; nextCursor: string | null };
type Detail = Entry & { attempts: Attempt[]; timings: { ttfbMs: number | null; totalMs: number; overheadMs: number; upstreamMs: number }; bodies: { request: string; response: string; truncated: boolean } | null; usage: { promptTokens: number } };

const page = async (ws: TestWorkspace, query = ""): Promise<Page> => {
  const res = await admin(`/workspaces/${ws.id}/logs${query ? `?${query}` : ""}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Page;
};
const ids = (p: Page) => p.data.map((e) => e.clientRequestId);

describe("request logs", () => {
  let ws: TestWorkspace;
  let otherKey: { id: string; key: string };
  const sent: Record<string, string> = {};

  beforeAll(async () => {
    ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: {
        smart: { strategy: "fallback", targets: [{ provider: "openai", model: "gpt-4o-mini" }, { provider: "anthropic", model: "claude-sonnet-4-5" }] },
        cached: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, cache: {} },
      },
      logging: { bodies: true },
    }));
    otherKey = (await (await admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: JSON.stringify({ name: "other" }) })).json()) as { id: string; key: string };
    const send = async (name: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      sent[name] = uniqueId(name);
      await (await callGateway(key, "/v1/chat/completions", { messages: [{ role: "user", content: `prompt of ${name}` }], ...body }, { "x-request-id": sent[name]!, ...headers })).text();
    };
    await send("plain", ws.key, { model: "openai/gpt-4o-mini" }, { "x-switchyard-metadata": JSON.stringify({ team: "search" }) });
    await scriptFaults(ws.scenario, [{ status: 500 }]);
    await send("rescued", ws.key, { model: "smart", user: "u-1" });
    const same = { model: "cached", messages: [{ role: "user", content: "the same question twice" }] };
    await send("miss", ws.key, same);
    await send("hit", ws.key, same);
    await scriptFaults(ws.scenario, [{ status: 503, times: 2 }]);
    await send("failed", otherKey.key, { model: "openai/gpt-4o-mini" });
    await scriptFaults(ws.scenario, [{ delayMs: 400 }]);
    await send("slow", otherKey.key, { model: "openai/gpt-4o-mini" }, { "x-switchyard-metadata": JSON.stringify({ team: "ads" }) });
    await workspaceRows(ws.id, 6);
  }, 60_000);

  it("lists requests newest first and pages through them with a cursor", async () => {
    const all = await page(ws);
    expect(ids(all)).toEqual(["slow", "failed", "hit", "miss", "rescued", "plain"].map((n) => sent[n]));
    expect(all.nextCursor).toBeNull();
    const seen: (string | null)[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const next: Page = await page(ws, `limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...ids(next));
      cursor = next.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(ids(all));
    const plain = all.data.find((e) => e.clientRequestId === sent.plain)!;
    expect(plain).toMatchObject({ keyId: ws.keyId, route: null, provider: "openai", model: "gpt-4o-mini", status: 200, outcome: "success", metadata: { team: "search" }, attemptCount: 1 });
  });

  it("filters by key, route, provider, model, status, outcome, cache status, metadata, user, latency and time", async () => {
    expect(ids(await page(ws, `keyId=${otherKey.id}`))).toEqual([sent.slow, sent.failed]);
    expect(ids(await page(ws, "route=smart"))).toEqual([sent.rescued]);
    expect(ids(await page(ws, "route=(direct)"))).toEqual([sent.slow, sent.failed, sent.plain]);
    expect(ids(await page(ws, "provider=anthropic"))).toEqual([sent.rescued]);
    expect(ids(await page(ws, "model=claude-sonnet-4-5"))).toEqual([sent.rescued]);
    expect(ids(await page(ws, "status=5xx"))).toEqual([sent.failed]);
    expect(ids(await page(ws, "status=502"))).toEqual([sent.failed]);
    expect(ids(await page(ws, "outcome=error"))).toEqual([sent.failed]);
    expect(ids(await page(ws, "cacheStatus=HIT"))).toEqual([sent.hit]);
    expect(ids(await page(ws, "cacheStatus=MISS"))).toEqual([sent.miss]);
    expect(ids(await page(ws, "metadata.team=ads"))).toEqual([sent.slow]);
    expect(ids(await page(ws, "user=u-1"))).toEqual([sent.rescued]);
    const slow = await page(ws, "minLatencyMs=400");
    expect(ids(slow)).toContain(sent.slow);
    expect(ids(slow)).not.toContain(sent.plain);
    expect(slow.data.every((e) => e.totalMs >= 400)).toBe(true);
    expect(ids(await page(ws, "to=2020-01-01"))).toEqual([]);
    expect(ids(await page(ws, `from=${new Date(Date.now() - 3_600_000).toISOString()}&keyId=${ws.keyId}&limit=1`))).toEqual([sent.hit]);
  });

  it("shows one request with every attempt, its timings and, with body logging on, its bodies", async () => {
    const { data } = await page(ws, "route=smart");
    const res = await admin(`/workspaces/${ws.id}/logs/${data[0]!.requestId}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as Detail;
    expect(detail.attempts.map((a) => [a.provider, a.status, a.outcome])).toEqual([["openai", 500, "http_error"], ["anthropic", 200, "success"]]);
    expect(detail.attempts[1]!.startMs!).toBeGreaterThanOrEqual(detail.attempts[0]!.startMs! + detail.attempts[0]!.latencyMs);
    expect(detail.timings.upstreamMs).toBeCloseTo(detail.attempts[0]!.latencyMs + detail.attempts[1]!.latencyMs, 6);
    expect(detail.timings.totalMs).toBeGreaterThanOrEqual(detail.timings.upstreamMs);
    expect(detail.user).toBe("u-1");
    expect(detail.usage.promptTokens).toBeGreaterThan(0);
    expect(detail.bodies?.request).toContain("prompt of rescued");
    expect(detail.bodies?.response.length).toBeGreaterThan(0);
  });

  it("answers 404 for an unknown request or another workspace's, 400 for a bad page", async () => {
    const { data } = await page(ws, "limit=1");
    const other = await newWorkspace();
    expect((await admin(`/workspaces/${other.id}/logs/${data[0]!.requestId}`)).status).toBe(404);
    expect((await admin(`/workspaces/${ws.id}/logs/req_nope`)).status).toBe(404);
    for (const [query, param] of [["cursor=garbage", "cursor"], ["limit=0", "limit"], ["limit=201", "limit"], ["outcome=meh", "outcome"], ["cacheStatus=hit", "cacheStatus"], ["status=42", "status"], ["minLatencyMs=-1", "minLatencyMs"]] as const) {
      const res = await admin(`/workspaces/${ws.id}/logs?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    }
  });

  it("scoped admin tokens: a viewer of this workspace reads its logs and usage, and may not read another workspace's or write", async () => {
    const token = async (body: Record<string, unknown>) => ((await (await admin("/tokens", { method: "POST", body: JSON.stringify(body) })).json()) as { token: string }).token;
    const viewer = await token({ name: "logs viewer", role: "viewer", workspaces: [ws.id] });
    const as = (bearer: string, path: string, init: RequestInit = {}) => gateway(`/admin${path}`, { ...init, headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" } });
    const code = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code ?? null });

    const listed = await as(viewer, `/workspaces/${ws.id}/logs?metadata.team=search`);
    expect(listed.status).toBe(200);
    expect(ids((await listed.json()) as Page)).toEqual([sent.plain]);
    const { data } = await page(ws, "limit=1");
    expect(await code(await as(viewer, `/workspaces/${ws.id}/logs/${data[0]!.requestId}`))).toEqual({ status: 200, code: null });
    const usage = await as(viewer, `/workspaces/${ws.id}/usage?groupBy=metadata.team`);
    expect(usage.status).toBe(200);
    expect(((await usage.json()) as { totals: { requests: number } }).totals.requests).toBe(6);

    const other = await newWorkspace();
    for (const path of [`/workspaces/${other.id}/logs`, `/workspaces/${other.id}/logs/${data[0]!.requestId}`, `/workspaces/${other.id}/usage`]) {
      expect(await code(await as(viewer, path)), path).toEqual({ status: 403, code: "workspace_forbidden" });
    }
    expect(await code(await as(viewer, `/workspaces/${ws.id}/config`, { method: "PUT", body: JSON.stringify({ providers: {} }) }))).toEqual({ status: 403, code: "role_forbidden" });
    expect(await code(await as(viewer, `/workspaces/${ws.id}/keys`, { method: "POST", body: JSON.stringify({ name: "nope" }) }))).toEqual({ status: 403, code: "role_forbidden" });
    expect(await code(await as(viewer, "/tokens"))).toEqual({ status: 403, code: "role_forbidden" });

    // A workspace admin of another workspace reads nothing here either.
    const otherAdmin = await token({ name: "other admin", role: "workspace_admin", workspaces: [other.id] });
    expect(await code(await as(otherAdmin, `/workspaces/${ws.id}/logs`))).toEqual({ status: 403, code: "workspace_forbidden" });
    expect(await code(await as(otherAdmin, `/workspaces/${ws.id}/usage`))).toEqual({ status: 403, code: "workspace_forbidden" });
    expect((await as(otherAdmin, `/workspaces/${other.id}/logs`)).status).toBe(200);
  });
});
