import { describe, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN, TEST_PROVIDER_KEYS } from "../fixtures";
import { admin, callGateway, gateway, newWorkspace } from "../helpers";

describe("gateway keys through the admin API", () => {
  it("creates a key shown once, lists keys without secrets, and revokes", async () => {
    const ws = await newWorkspace();
    const created = await admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: JSON.stringify({ name: "ci" }) });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; key: string; name: string; createdAt: string };
    expect(Object.keys(key)).toEqual(expect.arrayContaining(["createdAt", "id", "key", "name"]));
    expect(key.key).toMatch(/^sy-[0-9A-Za-z]{32}$/);

    const ok = await callGateway(key.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "x" }] });
    expect(ok.status).toBe(200);
    const viaApiKeyHeader = await gateway("/v1/models", { headers: { "x-api-key": key.key } });
    expect(viaApiKeyHeader.status).toBe(200);

    const listed = await (await admin(`/workspaces/${ws.id}/keys`)).text();
    expect(listed).toContain(key.id);
    expect(listed).not.toContain(key.key);
    expect(listed).not.toContain("hash");

    const revoked = await admin(`/workspaces/${ws.id}/keys/${key.id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    const after = await callGateway(key.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "x" }] });
    expect(after.status).toBe(401);
    expect((await admin(`/workspaces/${ws.id}/keys/${key.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("requires the admin token, compared exactly", async () => {
    expect((await gateway("/admin/workspaces")).status).toBe(401);
    expect((await gateway("/admin/workspaces", { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` } })).status).toBe(401);
    expect((await gateway("/admin/workspaces", { headers: { authorization: TEST_ADMIN_TOKEN } })).status).toBe(401);
    expect((await gateway("/admin/workspaces", { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).status).toBe(200);
  });

  it("rejects a key request without a name, naming the field", async () => {
    const ws = await newWorkspace();
    const res = await admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: JSON.stringify({}) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("name");
    expect((await admin(`/workspaces/no-such-ws/keys`, { method: "POST", body: JSON.stringify({ name: "x" }) })).status).toBe(404);
  });

  it("returns the config document as loaded, credentials as references only", async () => {
    const res = await admin("/workspaces/default/config");
    expect(res.status).toBe(200);
    const text = await res.text();
    const config = JSON.parse(text) as { providers: Record<string, { apiKey: unknown }> };
    expect(config.providers.openai?.apiKey).toEqual({ env: "OPENAI_API_KEY" });
    for (const secret of Object.values(TEST_PROVIDER_KEYS)) expect(text).not.toContain(secret);
  });

  it("serves the default workspace from the bundled config file", async () => {
    const created = await admin("/workspaces/default/keys", { method: "POST", body: JSON.stringify({ name: "default" }) });
    const { key } = (await created.json()) as { key: string };
    const res = await callGateway(key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "from default" }] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("openai");
  });
});
