import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminApi } from "../../src/api/admin";
import { ADMIN_OPERATIONS } from "../../src/api/admin/operations";
import worker from "../../src/index";
import { addressBucket, clientAddress } from "../../src/policy/client-address";
import { adminTokenWeakness } from "../../src/policy/admin-token-strength";
import { TEST_ADMIN_TOKEN } from "../fixtures";
import { GATEWAY_ORIGIN, admin, gateway, newWorkspace, type TestWorkspace } from "../helpers";
import type { ErrorBody } from "../tenancy/tenancy-helpers";

const json = (body: unknown) => JSON.stringify(body);
const hello = { model: "smart", messages: [{ role: "user", content: "Hi" }] };

/** An admin request from a given client address (as Cloudflare's edge reports it), with a given token. */
const adminAs = (token: string, path: string, init: RequestInit & { from?: string } = {}) =>
  gateway(`/admin${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.from ? { "cf-connecting-ip": init.from } : {}), ...(init.headers as Record<string, string> | undefined) },
  });

const chatAs = (token: string, workspace: string, from?: string) =>
  gateway("/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-switchyard-workspace": workspace, ...(from ? { "cf-connecting-ip": from } : {}) },
    body: json(hello),
  });

async function createToken(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const res = await admin("/tokens", { method: "POST", body: json(body) });
  if (res.status !== 201) throw new Error(`creating an admin token failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; token: string };
}

async function expectForbidden(res: Response, code: "role_forbidden" | "workspace_forbidden"): Promise<void> {
  expect(res.status).toBe(403);
  const body = (await res.json()) as ErrorBody;
  expect(body).toEqual({ error: { message: expect.any(String), type: "permission_error", param: null, code } });
}

/** The Worker's own fetch handler with the test bindings but some vars changed (how a deployment differs from a test run). */
async function fetchWithBindings(overrides: Record<string, string>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${GATEWAY_ORIGIN}${path}`, init), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("failed admin authentications are throttled per client address", () => {
  it("after 10 failures in the window an address gets 429 with Retry-After, whatever it presents; other addresses are unaffected", async () => {
    const attacker = "203.0.113.10";
    for (let i = 0; i < 10; i++) expect((await adminAs(`guess-${i}-0123456789abcdef0123456789`, "/workspaces", { from: attacker })).status).toBe(401);
    const refused = await adminAs("guess-10-0123456789abcdef0123456789", "/workspaces", { from: attacker });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(800);
    expect(await refused.json()).toEqual({ error: { message: expect.stringMatching(/too many failed admin authentications/i), type: "rate_limit_error", param: null, code: "too_many_failed_authentications" } });
    // The right token from the blocked address is not even looked at.
    expect((await adminAs(TEST_ADMIN_TOKEN, "/workspaces", { from: attacker })).status).toBe(429);
    expect((await adminAs(TEST_ADMIN_TOKEN, "/workspaces", { from: "203.0.113.11" })).status).toBe(200);
    // Attempts after the block are refused from isolate memory: the object saw only the 10 failures.
    expect(await env.AUTH_THROTTLE.getByName(`admin|${attacker}`).describe()).toMatchObject({ failures: 10 });
  });

  it("an address blocked elsewhere (another isolate) is refused on its first success here: the first success asks the Durable Object", async () => {
    const address = "203.0.113.20";
    const throttle = env.AUTH_THROTTLE.getByName(`admin|${address}`);
    for (let i = 0; i < 10; i++) await throttle.recordFailure();
    expect((await adminAs(TEST_ADMIN_TOKEN, "/workspaces", { from: address })).status).toBe(429);
  });

  it("steady successful authentication does not call the Durable Object (one check per address per isolate)", async () => {
    const address = "203.0.113.30";
    for (let i = 0; i < 5; i++) expect((await adminAs(TEST_ADMIN_TOKEN, "/workspaces", { from: address })).status).toBe(200);
    expect(await env.AUTH_THROTTLE.getByName(`admin|${address}`).describe()).toEqual({ failures: 0, checks: 1 });
  });

  it("counts an IPv6 client by its /64, so rotating addresses inside one allocation does not reset the count", async () => {
    for (let i = 0; i < 10; i++) expect((await adminAs("wrong-token-0123456789abcdef0123456789", "/workspaces", { from: `2001:db8:aa:bb::${(i + 1).toString(16)}` })).status).toBe(401);
    expect((await adminAs(TEST_ADMIN_TOKEN, "/workspaces", { from: "2001:db8:aa:bb:ffff::1" })).status).toBe(429);
    expect((await adminAs(TEST_ADMIN_TOKEN, "/workspaces", { from: "2001:db8:aa:bc::1" })).status).toBe(200);
    expect(addressBucket(clientAddress(new Headers({ "cf-connecting-ip": "2001:DB8:AA:BB:0:0:0:7" })))).toBe("2001:db8:aa:bb::/64");
    expect(clientAddress(new Headers({ "cf-connecting-ip": "::ffff:198.51.100.7" }))).toBe("198.51.100.7");
    expect(clientAddress(new Headers({ "cf-connecting-ip": "not an address" }))).toBeNull();
  });

  it("guesses of the admin token on /v1 are counted too (apart from /admin, so bad keys there cannot lock admins out)", async () => {
    const address = "203.0.113.40";
    const ws = await newWorkspace();
    for (let i = 0; i < 10; i++) expect((await chatAs(`guess-${i}-0123456789abcdef0123456789`, ws.id, address)).status).toBe(401);
    expect((await chatAs(TEST_ADMIN_TOKEN, ws.id, address)).status).toBe(429);
    expect((await chatAs(ws.key, ws.id, address)).status).toBe(200);
    expect((await adminAs(TEST_ADMIN_TOKEN, "/workspaces", { from: address })).status).toBe(200);
  });
});

describe("a weak ADMIN_TOKEN is refused outside local development", () => {
  it("names the weaknesses: short, the published default, a repeated pattern, the shape of a gateway key", () => {
    expect(adminTokenWeakness("dev-admin-token")).toMatch(/default/);
    expect(adminTokenWeakness("0123456789abcdef0123456789abcde")).toMatch(/shorter than 32/);
    expect(adminTokenWeakness("ab".repeat(20))).toMatch(/different characters/);
    expect(adminTokenWeakness("sy-aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zC")).toMatch(/gateway key/);
    expect(adminTokenWeakness(TEST_ADMIN_TOKEN)).toBeNull();
  });

  it("answers 503 admin_token_weak to any attempt (the right token or not) and refuses it on /v1; in local development it works", async () => {
    const weak = { ADMIN_TOKEN: "dev-admin-token", SWITCHYARD_LOCAL_DEV: "" };
    for (const presented of ["dev-admin-token", "something-else"]) {
      const res = await fetchWithBindings(weak, "/admin/workspaces", { headers: { authorization: `Bearer ${presented}`, "cf-connecting-ip": "203.0.113.50" } });
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "admin_token_weak", message: expect.stringMatching(/published local-development default/) });
    }
    const short = await fetchWithBindings({ ADMIN_TOKEN: "short-but-not-default", SWITCHYARD_LOCAL_DEV: "" }, "/admin/workspaces", { headers: { authorization: "Bearer short-but-not-default", "cf-connecting-ip": "203.0.113.50" } });
    expect(((await short.json()) as ErrorBody).error.message).toMatch(/shorter than 32 characters/);
    const v1 = await fetchWithBindings(weak, "/v1/chat/completions", {
      method: "POST",
      headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json", "x-switchyard-workspace": "default", "cf-connecting-ip": "203.0.113.50" },
      body: json(hello),
    });
    expect(v1.status).toBe(401);

    const local = await fetchWithBindings({ ADMIN_TOKEN: "dev-admin-token", SWITCHYARD_LOCAL_DEV: "true" }, "/admin/workspaces", { headers: { authorization: "Bearer dev-admin-token", "cf-connecting-ip": "203.0.113.51" } });
    expect(local.status).toBe(200);
  });

  it("admin tokens made through the API keep working while the secret is refused", async () => {
    const owner = await createToken({ name: "break-glass", role: "owner" });
    const res = await fetchWithBindings({ ADMIN_TOKEN: "dev-admin-token", SWITCHYARD_LOCAL_DEV: "" }, "/admin/workspaces", { headers: { authorization: `Bearer ${owner.token}`, "cf-connecting-ip": "203.0.113.52" } });
    expect(res.status).toBe(200);
  });
});

describe("admin tokens", () => {
  it("are created by owners with a role (shown once, stored hashed), listed and read without secrets, and stop working when revoked", async () => {
    const ws = await newWorkspace();
    const created = await admin("/tokens", { method: "POST", body: json({ name: "ops viewer", role: "viewer", workspaces: [ws.id] }) });
    expect(created.status).toBe(201);
    const token = (await created.json()) as { id: string; token: string; role: string; workspaces: string[]; createdBy: string };
    expect(token).toMatchObject({ id: expect.stringMatching(/^adm_/), token: expect.stringMatching(/^sya-[0-9A-Za-z]{32}$/), role: "viewer", workspaces: [ws.id], createdBy: "ADMIN_TOKEN" });

    const listed = await (await admin("/tokens")).text();
    expect(listed).toContain(token.id);
    expect(listed).not.toContain(token.token);
    expect(listed).not.toContain("hash");
    expect(await (await admin(`/tokens/${token.id}`)).json()).toMatchObject({ id: token.id, name: "ops viewer", role: "viewer" });
    expect(await (await adminAs(token.token, "/me")).json()).toEqual({ id: token.id, name: "ops viewer", role: "viewer", workspaces: [ws.id] });

    expect(await (await admin(`/tokens/${token.id}`, { method: "DELETE" })).json()).toEqual({ id: token.id, deleted: true });
    // Revocation is immediate in the isolate that revoked; elsewhere within the 3 s lookup cache (docs/tenancy.md).
    expect((await adminAs(token.token, "/me")).status).toBe(401);
    expect((await admin(`/tokens/${token.id}`)).status).toBe(404);
    expect((await admin(`/tokens/${token.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("refuses bad token payloads with 400 naming the field", async () => {
    const post = async (body: unknown, param: string) => {
      const res = await admin("/tokens", { method: "POST", body: json(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as ErrorBody).error.param).toBe(param);
    };
    await post({ name: "x", role: "root" }, "role");
    await post({ name: "x", role: "workspace_admin" }, "workspaces");
    await post({ name: "x", role: "owner", workspaces: ["default"] }, "workspaces");
    await post({ name: "x", role: "viewer", workspaces: ["default", "no-such-workspace"] }, "workspaces[1]");
    await post({ role: "viewer" }, "name");
    await post({ name: "x", role: "viewer", extra: true }, "extra");
  });

  it("with expiresAt, stop working after that instant", async () => {
    const expired = await createToken({ name: "temp", role: "viewer", expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect((await adminAs(expired.token, "/me")).status).toBe(401);
  });
});

type Role = "owner" | "workspace_admin" | "viewer" | "scoped viewer";
const ROLES: Role[] = ["owner", "workspace_admin", "viewer", "scoped viewer"];

/** Per role: a token, its own workspace (in scope) and another one (out of scope for scoped tokens). */
async function roleFixture(): Promise<{ tokens: Record<Role, string>; mine: TestWorkspace; other: TestWorkspace }> {
  const [mine, other] = [await newWorkspace(), await newWorkspace()];
  const tokens = {
    owner: (await createToken({ name: "owner", role: "owner" })).token,
    workspace_admin: (await createToken({ name: "team admin", role: "workspace_admin", workspaces: [mine.id] })).token,
    viewer: (await createToken({ name: "finance", role: "viewer" })).token,
    "scoped viewer": (await createToken({ name: "team viewer", role: "viewer", workspaces: [mine.id] })).token,
  };
  return { tokens, mine, other };
}

describe("every admin route enforces its access for each role (refusals are 403 in the OpenAI error shape)", () => {
  const fixture = roleFixture();
  const can = (role: Role, ...roles: Role[]) => roles.includes(role);

  for (const role of ROLES) {
    it(`${role}: who am I, and the workspace list (scoped tokens see only theirs)`, async () => {
      const { tokens, mine, other } = await fixture;
      expect(((await (await adminAs(tokens[role], "/me")).json()) as { role: string }).role).toBe(role === "scoped viewer" ? "viewer" : role);
      const ids = ((await (await adminAs(tokens[role], "/workspaces")).json()) as { data: { id: string }[] }).data.map((w) => w.id);
      expect(ids).toContain(mine.id);
      expect(ids.includes(other.id)).toBe(can(role, "owner", "viewer"));
    });

    it(`${role}: reading a workspace's config, keys, credentials, limits and usage`, async () => {
      const { tokens, mine, other } = await fixture;
      for (const path of ["", "/config", "/keys", `/keys/${mine.keyId}`, "/credentials", "/limits", "/usage"]) {
        expect((await adminAs(tokens[role], `/workspaces/${mine.id}${path}`)).status, path).toBe(200);
      }
      for (const path of ["", "/config", "/keys", `/keys/${other.keyId}/limits`, "/credentials", "/usage"]) {
        const res = await adminAs(tokens[role], `/workspaces/${other.id}${path}`);
        if (can(role, "owner", "viewer")) expect(res.status, path).toBe(200);
        else await expectForbidden(res, "workspace_forbidden");
      }
    });

    it(`${role}: changing a workspace's config, keys and credentials`, async () => {
      const { tokens, mine, other } = await fixture;
      const writes = (ws: TestWorkspace) => [
        () => adminAs(tokens[role], `/workspaces/${ws.id}/keys`, { method: "POST", body: json({ name: `by ${role}` }) }),
        () => adminAs(tokens[role], `/workspaces/${ws.id}/keys/${ws.keyId}`, { method: "PATCH", body: json({ name: `renamed by ${role}` }) }),
        () => adminAs(tokens[role], `/workspaces/${ws.id}/credentials/by-${role.replace(" ", "-")}`, { method: "PUT", body: json({ value: "sk-sim-role-test" }) }),
        async () => adminAs(tokens[role], `/workspaces/${ws.id}/config`, { method: "PUT", body: await (await admin(`/workspaces/${ws.id}/config`)).text() }),
      ];
      for (const write of writes(mine)) {
        const res = await write();
        if (can(role, "owner", "workspace_admin")) expect(res.status).toBeLessThan(300);
        else await expectForbidden(res, "role_forbidden");
      }
      for (const write of writes(other)) {
        const res = await write();
        if (role === "owner") expect(res.status).toBeLessThan(300);
        else await expectForbidden(res, role === "workspace_admin" ? "workspace_forbidden" : "role_forbidden");
      }
      const revoke = await adminAs(tokens[role], `/workspaces/${mine.id}/keys/key_does_not_exist`, { method: "DELETE" });
      if (can(role, "owner", "workspace_admin")) expect(revoke.status).toBe(404);
      else await expectForbidden(revoke, "role_forbidden");
    });

    it(`${role}: owner-only routes (workspaces, admin tokens, master-key rotation)`, async () => {
      const { tokens, other } = await fixture;
      const calls = [
        () => adminAs(tokens[role], "/workspaces", { method: "POST", body: json({ id: `made-by-${Math.random().toString(36).slice(2, 8)}`, name: "x" }) }),
        () => adminAs(tokens[role], "/tokens"),
        () => adminAs(tokens[role], "/tokens", { method: "POST", body: json({ name: "escalate", role: "owner" }) }),
        () => adminAs(tokens[role], "/tokens/adm_unknown", { method: "DELETE" }),
        () => adminAs(tokens[role], "/credentials/rotate", { method: "POST" }),
      ];
      for (const call of calls) {
        const res = await call();
        if (role === "owner") expect(res.status === 404 || res.status < 300).toBe(true);
        else await expectForbidden(res, "role_forbidden");
      }
      const del = await adminAs(tokens[role], `/workspaces/${other.id}-not-there`, { method: "DELETE" });
      if (role === "owner") expect(del.status).toBe(404);
      else await expectForbidden(del, "role_forbidden");
    });

    it(`${role}: the audit log (scoped tokens: their workspaces only) and /v1 test requests (writers only)`, async () => {
      const { tokens, mine, other } = await fixture;
      expect((await adminAs(tokens[role], `/audit?workspace=${mine.id}`)).status).toBe(200);
      const otherAudit = await adminAs(tokens[role], `/audit?workspace=${other.id}`);
      if (can(role, "owner", "viewer")) expect(otherAudit.status).toBe(200);
      else await expectForbidden(otherAudit, "workspace_forbidden");

      const mineChat = await chatAs(tokens[role], mine.id);
      if (can(role, "owner", "workspace_admin")) expect(mineChat.status).toBe(200);
      else await expectForbidden(mineChat, "role_forbidden");
      const otherChat = await chatAs(tokens[role], other.id);
      if (role === "owner") expect(otherChat.status).toBe(200);
      else await expectForbidden(otherChat, role === "workspace_admin" ? "workspace_forbidden" : "role_forbidden");
    });
  }

  it("every routed admin endpoint has a row (and so an access rule) in ADMIN_OPERATIONS; an unlisted path is 404 for scoped tokens", async () => {
    const listed = new Set(ADMIN_OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`));
    const routed = adminApi.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(routed.length).toBeGreaterThan(20);
    for (const route of routed) expect(listed, route).toContain(route);
    const { tokens } = await fixture;
    expect((await adminAs(tokens.viewer, "/not-an-endpoint")).status).toBe(404);
  });
});
