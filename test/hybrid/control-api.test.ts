import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SyncResponseSchema, type ShippedUsageEvent } from "../../src/hybrid/protocol";
import { TEST_ADMIN_TOKEN } from "../fixtures";
import { admin, gateway, newWorkspace } from "../helpers";

const json = (body: unknown) => JSON.stringify(body);

const control = (token: string, path: string, body: unknown) =>
  gateway(`/control/v1${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: json(body) });

async function createNodeToken(workspaces: string[]): Promise<{ id: string; token: string }> {
  const res = await admin("/tokens", { method: "POST", body: json({ name: "dc-1", role: "node", workspaces }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

async function sync(token: string, known: Record<string, string> = {}) {
  const res = await control(token, "/sync", { known });
  expect(res.status).toBe(200);
  return SyncResponseSchema.parse(await res.json());
}

const usageEvent = (workspaceId: string, requestId: string): ShippedUsageEvent => ({
  request_id: requestId, client_request_id: null, ts: Date.parse("2026-11-05T10:00:00Z"), day: "2026-11-05", workspace_id: workspaceId, key_id: "key_x",
  route: "smart", operation: "chat", provider: "openai", model: "gpt-4o-mini", attempts: "[]", attempt_count: 1, prompt_tokens: 10, completion_tokens: 5,
  cached_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, usage_estimated: 0, cost_usd: 0.001, cache_status: null, saved_tokens: 0, saved_usd: null,
  coalesced: 0, stream: 0, ttfb_ms: null, total_ms: 12, overhead_ms: 1, status: 200, outcome: "success", error_type: null, rescued: 0, delivery_attempts: 1, batch_id: null,
});

describe("node tokens", () => {
  it("are made by owners only, need the workspaces they are enrolled in, and are listed without the token", async () => {
    const ws = await newWorkspace();
    expect((await admin("/tokens", { method: "POST", body: json({ name: "n", role: "node" }) })).status).toBe(400);
    const scoped = await (await admin("/tokens", { method: "POST", body: json({ name: "wa", role: "workspace_admin", workspaces: [ws.id] }) })).json() as { token: string };
    const refused = await gateway("/admin/tokens", { method: "POST", headers: { authorization: `Bearer ${scoped.token}`, "content-type": "application/json" }, body: json({ name: "n", role: "node", workspaces: [ws.id] }) });
    expect(refused.status).toBe(403);
    const node = await createNodeToken([ws.id]);
    expect(node.token).toMatch(/^sya-/);
    const listed = (await (await admin("/tokens")).json()) as { data: Record<string, unknown>[] };
    const row = listed.data.find((t) => t.id === node.id);
    expect(row).toMatchObject({ role: "node", workspaces: [ws.id] });
    expect(JSON.stringify(listed)).not.toContain(node.token);
  });

  it("allow only the control-plane endpoints: no admin endpoint, no /v1 call; other credentials cannot sync", async () => {
    const ws = await newWorkspace();
    const node = await createNodeToken([ws.id]);
    const asNode = { authorization: `Bearer ${node.token}`, "content-type": "application/json" };
    for (const path of ["/admin/me", "/admin/workspaces", `/admin/workspaces/${ws.id}/config`, `/admin/workspaces/${ws.id}/keys`, "/admin/tokens"]) {
      expect([403, 404], path).toContain((await gateway(path, { headers: asNode })).status);
    }
    const v1 = await gateway("/v1/chat/completions", { method: "POST", headers: { ...asNode, "x-switchyard-workspace": ws.id }, body: json({ model: "smart", messages: [{ role: "user", content: "Hi" }] }) });
    expect(v1.status).toBe(403);
    expect((await sync(node.token)).enrolled).toEqual([ws.id]);

    expect((await control(TEST_ADMIN_TOKEN, "/sync", { known: {} })).status).toBe(401);
    const owner = (await (await admin("/tokens", { method: "POST", body: json({ name: "o", role: "owner" }) })).json()) as { token: string };
    const ownerSync = await control(owner.token, "/sync", { known: {} });
    expect(ownerSync.status).toBe(403);
    expect(await ownerSync.json()).toMatchObject({ error: { type: "permission_error", code: "role_forbidden" } });
    expect((await control(ws.key, "/sync", { known: {} })).status).toBe(401);
    expect((await gateway("/control/v1/sync", { method: "POST", body: "{}" })).status).toBe(401);
  });

  it("revoked, stop syncing at once in the revoking isolate (others within the token cache's 3 s)", async () => {
    const ws = await newWorkspace();
    const node = await createNodeToken([ws.id]);
    await sync(node.token);
    expect((await admin(`/tokens/${node.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await control(node.token, "/sync", { known: {} })).status).toBe(401);
    expect((await control(node.token, "/usage", { events: [usageEvent(ws.id, `req_${crypto.randomUUID()}`)] })).status).toBe(401);
  });
});

describe("sync", () => {
  it("sends only the enrolled workspaces, whatever the node claims to know", async () => {
    const mine = await newWorkspace();
    const theirs = await newWorkspace();
    const node = await createNodeToken([mine.id]);
    const first = await sync(node.token, { [theirs.id]: "0".repeat(64) });
    expect(first.enrolled).toEqual([mine.id]);
    expect(first.changed.map((s) => s.id)).toEqual([mine.id]);
    expect(JSON.stringify(first)).not.toContain(theirs.id);
    expect(JSON.stringify(first)).not.toContain(theirs.key);
  });

  it("is versioned and incremental: unchanged workspaces carry nothing; a new key, a config change and a revocation each change the version; keys travel as hashes", async () => {
    const ws = await newWorkspace();
    const node = await createNodeToken([ws.id]);
    const first = await sync(node.token);
    const snapshot = first.changed[0]!;
    expect(snapshot.keys.map((k) => k.id)).toEqual([ws.keyId]);
    expect(JSON.stringify(first)).not.toContain(ws.key);
    expect(JSON.parse(snapshot.config!)).toMatchObject({ routes: { smart: { strategy: "single" } } });
    const known = { [ws.id]: snapshot.version };
    expect((await sync(node.token, known)).changed).toEqual([]);

    const created = (await (await admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: json({ name: "second", rateLimit: { rpm: 5 } }) })).json()) as { id: string; key: string };
    const afterKey = await sync(node.token, known);
    expect(afterKey.changed[0]!.keys.find((k) => k.id === created.id)).toMatchObject({ rateLimit: { rpm: 5 }, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(afterKey.changed[0]!.version).not.toBe(snapshot.version);

    await admin(`/workspaces/${ws.id}/keys/${created.id}`, { method: "DELETE" });
    const afterRevoke = await sync(node.token, { [ws.id]: afterKey.changed[0]!.version });
    expect(afterRevoke.changed[0]!.keys.map((k) => k.id)).toEqual([ws.keyId]);
  });
});

describe("leases", () => {
  it("a node leases from its workspaces' limiters only (its own keys' and workspaces'), within their limits", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace();
    const node = await createNodeToken([ws.id]);
    const limited = (await (await admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: json({ name: "rpm", rateLimit: { rpm: 2 } }) })).json()) as { id: string };
    const ask = (keyId: string) => ({
      holder: "isolate:spoofed",
      ask: { scopes: [{ scope: `key:${keyId}`, rpm: 2 }], first: { tokens: 0, usd: 0 }, want: { requests: 10, tokensPerRequest: 0, usdPerRequest: 0 } },
      now: 0,
    });
    const granted = await control(node.token, "/lease", { limiter: `key:${limited.id}`, request: ask(limited.id) });
    expect(granted.status).toBe(200);
    const body = (await granted.json()) as { ok: boolean; lease: { requests: number } | null };
    expect(body.ok).toBe(true);
    expect(body.lease!.requests).toBeLessThanOrEqual(2);
    // The limit is the limiter's, whoever asks: a third request in the minute does not fit.
    const again = (await (await control(node.token, "/lease", { limiter: `key:${limited.id}`, request: ask(limited.id) })).json()) as { ok: boolean; lease: { requests: number } | null };
    expect(body.lease!.requests + (again.ok ? (again.lease?.requests ?? 0) : 0)).toBeLessThanOrEqual(2);

    expect((await control(node.token, "/lease", { limiter: `key:${other.keyId}`, request: ask(other.keyId) })).status).toBe(403);
    expect((await control(node.token, "/lease", { limiter: `ws:${other.id}`, request: ask(other.keyId) })).status).toBe(403);
    expect((await control(node.token, "/lease", { limiter: "key:key_doesnotexist", request: ask("key_doesnotexist") })).status).toBe(403);
    expect((await control(node.token, "/lease", { limiter: `key:${limited.id}`, request: { holder: 7 } })).status).toBe(400);
    expect((await control(TEST_ADMIN_TOKEN, "/lease", { limiter: `key:${limited.id}`, request: ask(limited.id) })).status).toBe(401);
  });
});

describe("usage shipping", () => {
  it("writes shipped events once per request id, only for enrolled workspaces, metadata columns only", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace();
    const node = await createNodeToken([ws.id]);
    const events = [usageEvent(ws.id, `req_${crypto.randomUUID()}`), usageEvent(ws.id, `req_${crypto.randomUUID()}`)];
    const first = await control(node.token, "/usage", { events });
    expect(await first.json()).toEqual({ received: 2, inserted: 2 });
    const again = await control(node.token, "/usage", { events });
    expect(await again.json()).toEqual({ received: 2, inserted: 0 });
    const count = await env.USAGE_DB.prepare("SELECT COUNT(*) AS n FROM usage_events WHERE workspace_id = ?").bind(ws.id).first<{ n: number }>();
    expect(count?.n).toBe(2);
    // The usage API answers from the rollups: shipped events are in them, once.
    const report = (await (await admin(`/workspaces/${ws.id}/usage?from=2026-11-01T00:00:00Z&to=2026-11-10T00:00:00Z`)).json()) as { totals: { requests: number } };
    expect(report.totals.requests).toBe(2);

    expect((await control(node.token, "/usage", { events: [usageEvent(other.id, `req_${crypto.randomUUID()}`)] })).status).toBe(403);
    const withBody = await control(node.token, "/usage", { events: [{ ...usageEvent(ws.id, `req_${crypto.randomUUID()}`), request: "the prompt" }] });
    expect(withBody.status).toBe(400);
  });
});
