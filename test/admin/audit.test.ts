import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_OPERATIONS } from "../../src/api/admin/operations";
import worker from "../../src/index";
import { TEST_ADMIN_TOKEN } from "../fixtures";
import { GATEWAY_ORIGIN, admin, gateway, newWorkspace, simulatorProviders } from "../helpers";
import type { ErrorBody } from "../tenancy/tenancy-helpers";

type Entry = {
  id: string;
  time: string;
  actor: { id: string; name: string; role: string };
  action: string;
  target: { type: string; id: string; workspaceId: string | null };
  beforeHash: string | null;
  afterHash: string | null;
  changedFields: string[];
  requestId: string;
  clientAddress: string | null;
};
type Page = { data: Entry[]; next: string | null };

const json = (body: unknown) => JSON.stringify(body);
const audit = async (query: string, token?: string): Promise<Page> => {
  const res = token ? await gateway(`/admin/audit${query}`, { headers: { authorization: `Bearer ${token}` } }) : await admin(`/audit${query}`);
  if (res.status !== 200) throw new Error(`GET /admin/audit${query}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Page;
};
const HASH = /^sha256:[0-9a-f]{64}$/;

describe("the audit log", () => {
  it("records every admin write — who, what, when, the target, before/after hashes — and never a secret", async () => {
    const started = Date.now();
    const ws = `t-audit-${Math.random().toString(36).slice(2, 8)}`;
    const secret = "sk-sim-audit-credential-never-logged-4242";
    const call = async (path: string, init: RequestInit & { from?: string } = {}) => {
      const res = await admin(path, { ...init, headers: { "cf-connecting-ip": "198.51.100.23", "x-request-id": `audit-test-${path}-${init.method ?? "GET"}` } });
      if (res.status >= 300) throw new Error(`${init.method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await call("/workspaces", { method: "POST", body: json({ id: ws, name: "Audited" }) });
    await call(`/workspaces/${ws}/config`, { method: "PUT", body: json({ providers: simulatorProviders("audit"), routes: {} }) });
    const key = await call(`/workspaces/${ws}/keys`, { method: "POST", body: json({ name: "ci" }) });
    await call(`/workspaces/${ws}/keys/${key.id}`, { method: "PATCH", body: json({ rateLimit: { rpm: 10 } }) });
    await call(`/workspaces/${ws}/credentials/openai-main`, { method: "PUT", body: json({ value: secret }) });
    await call(`/workspaces/${ws}/credentials/openai-main`, { method: "PUT", body: json({ value: `${secret}-2` }) });
    await call(`/workspaces/${ws}/credentials/openai-main`, { method: "DELETE" });
    await call(`/workspaces/${ws}/keys/${key.id}`, { method: "DELETE" });
    const token = await call("/tokens", { method: "POST", body: json({ name: "auditor", role: "workspace_admin", workspaces: [ws] }) });
    // A write by a scoped token is recorded under that token's id.
    const byToken = await gateway(`/admin/workspaces/${ws}/keys`, { method: "POST", headers: { authorization: `Bearer ${token.token}`, "content-type": "application/json" }, body: json({ name: "made by a token" }) });
    expect(byToken.status).toBe(201);
    await call(`/tokens/${token.id}`, { method: "DELETE" });
    await call("/credentials/rotate", { method: "POST" });
    await call(`/workspaces/${ws}`, { method: "DELETE" });

    const text = await (await admin(`/audit?from=${new Date(started - 1000).toISOString()}&limit=200`)).text();
    for (const forbidden of [secret, String(key.key), String(token.token), "hash\":\"", "ciphertext"]) expect(text).not.toContain(forbidden);
    const entries = (JSON.parse(text) as Page).data.filter((e) => e.target.workspaceId === ws || e.target.id === token.id || e.action === "credentials.rotate").reverse();
    expect(entries.map((e) => e.action)).toEqual([
      "workspace.create",
      "config.update",
      "key.create",
      "key.update",
      "credential.create",
      "credential.update",
      "credential.delete",
      "key.revoke",
      "admin_token.create",
      "key.create",
      "admin_token.revoke",
      "credentials.rotate",
      "workspace.delete",
    ]);
    const [created, config, keyCreated, keyUpdated, credCreated, credUpdated, credDeleted, keyRevoked, tokenCreated, byTokenEntry] = entries;
    expect(created).toMatchObject({ actor: { id: "ADMIN_TOKEN", role: "owner" }, target: { type: "workspace", id: ws, workspaceId: ws }, beforeHash: null, afterHash: expect.stringMatching(HASH), clientAddress: "198.51.100.23", requestId: "audit-test-/workspaces-POST" });
    expect(Date.parse(created!.time)).toBeGreaterThanOrEqual(started - 1000);
    expect(config).toMatchObject({ target: { type: "config", id: ws }, beforeHash: null, afterHash: expect.stringMatching(HASH) });
    expect(keyCreated).toMatchObject({ target: { type: "key", id: key.id, workspaceId: ws }, beforeHash: null });
    expect(keyUpdated).toMatchObject({ beforeHash: keyCreated!.afterHash, afterHash: expect.stringMatching(HASH), changedFields: ["rateLimit"] });
    expect(keyUpdated!.afterHash).not.toBe(keyUpdated!.beforeHash);
    expect(credCreated).toMatchObject({ target: { type: "credential", id: "openai-main", workspaceId: ws }, beforeHash: null });
    expect(credUpdated).toMatchObject({ beforeHash: credCreated!.afterHash, changedFields: expect.arrayContaining(["updatedAt"]) });
    expect(credDeleted).toMatchObject({ beforeHash: credUpdated!.afterHash, afterHash: null });
    expect(keyRevoked).toMatchObject({ beforeHash: keyUpdated!.afterHash, afterHash: null });
    expect(tokenCreated).toMatchObject({ target: { type: "admin_token", id: token.id, workspaceId: null } });
    expect(byTokenEntry).toMatchObject({ actor: { id: token.id, name: "auditor", role: "workspace_admin" }, action: "key.create" });

    // Every write endpoint of the admin API declares the actions it records, and each was seen above.
    const seen = new Set(entries.map((e) => e.action));
    for (const op of ADMIN_OPERATIONS.filter((o) => o.method !== "get")) {
      expect(op.audit, `${op.method} ${op.path}`).toBeDefined();
      expect(op.audit!.some((action) => seen.has(action)), `${op.method} ${op.path}`).toBe(true);
    }
  });

  it("is filtered (workspace, actor, action, target type, time) and paged newest first with a cursor", async () => {
    const ws = await newWorkspace();
    for (let i = 0; i < 5; i++) expect((await admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: json({ name: `k${i}` }) })).status).toBe(201);
    const all = await audit(`?workspace=${ws.id}&action=key.create`);
    expect(all.data).toHaveLength(6); // newWorkspace's own key, and five more
    expect(all.next).toBeNull();
    const times = all.data.map((e) => Date.parse(e.time));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const pages: Entry[][] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: Page = await audit(`?workspace=${ws.id}&action=key.create&limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      pages.push(page.data);
      cursor = page.next;
    }
    expect(pages.map((p) => p.length)).toEqual([4, 2]);
    expect(pages.flat().map((e) => e.id)).toEqual(all.data.map((e) => e.id));

    expect((await audit(`?workspace=${ws.id}&targetType=config`)).data.map((e) => e.action)).toEqual(["config.update"]);
    expect((await audit(`?workspace=${ws.id}&actor=ADMIN_TOKEN&limit=200`)).data.length).toBe(8);
    expect((await audit(`?workspace=${ws.id}&actor=adm_nobody`)).data).toEqual([]);
    expect((await audit(`?workspace=${ws.id}&to=2000-01-01`)).data).toEqual([]);
    expect((await audit(`?workspace=${ws.id}&from=${new Date(Date.now() + 60_000).toISOString()}`)).data).toEqual([]);

    for (const [query, param] of [["?limit=0", "limit"], ["?limit=1000", "limit"], ["?action=key.explode", "action"], ["?cursor=not-a-cursor", "cursor"], ["?from=yesterday", "from"], ["?sort=asc", "sort"]] as const) {
      const res = await admin(`/audit${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as ErrorBody).error.param, query).toBe(param);
    }
  });

  it("shows scoped tokens only their workspaces' entries", async () => {
    const [mine, other] = [await newWorkspace(), await newWorkspace()];
    const created = (await (await admin("/tokens", { method: "POST", body: json({ name: "team", role: "viewer", workspaces: [mine.id] }) })).json()) as { token: string; id: string };
    const seen = (await audit("?limit=200", created.token)).data;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.target.workspaceId === mine.id)).toBe(true);
    expect(seen.some((e) => e.target.workspaceId === other.id || e.target.type === "admin_token")).toBe(false);
  });

  it("an entry whose D1 write fails goes through the audit Queue and still lands", async () => {
    const ws = await newWorkspace();
    await env.USAGE_DB.exec("ALTER TABLE audit_log RENAME TO audit_log_paused");
    let created: Response;
    try {
      created = await admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: json({ name: "while D1 was failing" }) });
    } finally {
      await env.USAGE_DB.exec("ALTER TABLE audit_log_paused RENAME TO audit_log");
    }
    expect(created.status).toBe(201);
    const keyId = ((await created.json()) as { id: string }).id;
    let found: Entry | undefined;
    for (let i = 0; i < 200 && !found; i++) {
      found = (await audit(`?workspace=${ws.id}&action=key.create`)).data.find((e) => e.target.id === keyId);
      if (!found) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(found).toMatchObject({ actor: { id: "ADMIN_TOKEN" }, target: { type: "key", id: keyId, workspaceId: ws.id } });
  });

  it("when neither D1 nor the Queue takes the entry, the write answers 500 audit_write_failed (never a silent gap)", async () => {
    const ws = await newWorkspace();
    await env.USAGE_DB.exec("ALTER TABLE audit_log RENAME TO audit_log_paused");
    let res: Response;
    try {
      // A deployment whose audit queue binding is missing: the only way left is to say so.
      const ctx = createExecutionContext();
      res = await worker.fetch(
        new Request(`${GATEWAY_ORIGIN}/admin/workspaces/${ws.id}/keys`, { method: "POST", headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" }, body: json({ name: "unaudited" }) }),
        { ...env, AUDIT_QUEUE: undefined } as unknown as Env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
    } finally {
      await env.USAGE_DB.exec("ALTER TABLE audit_log_paused RENAME TO audit_log");
    }
    expect(res.status).toBe(500);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "audit_write_failed", message: expect.stringMatching(/change was applied/) });
  });
});
