import { describe, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN } from "../fixtures";
import { admin, callGateway, gateway, newWorkspace, simulatorProviders, upstreamRequests } from "../helpers";
import { addKey, chatOnHost, hello, type ErrorBody } from "./tenancy-helpers";

/** Two workspaces with different providers and routes: A has OpenAI only (route `smart`), B Anthropic only (route `claude`). */
async function twoWorkspaces() {
  const a = await newWorkspace((scenario) => ({
    providers: { openai: simulatorProviders(scenario).openai! },
    routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
  }));
  const b = await newWorkspace((scenario) => ({
    providers: { anthropic: simulatorProviders(scenario).anthropic! },
    routes: { claude: { strategy: "single", target: { provider: "anthropic", model: "claude-haiku-4-5" } } },
  }));
  return { a, b };
}

describe("isolation between workspaces", () => {
  it("a key reaches only its own workspace's routes and providers", async () => {
    const { a, b } = await twoWorkspaces();
    expect((await callGateway(a.key, "/v1/chat/completions", hello())).status).toBe(200);
    expect((await callGateway(b.key, "/v1/chat/completions", { ...hello(), model: "claude" })).status).toBe(200);

    // Each other's routes and providers do not exist for them.
    const crossRoute = await callGateway(a.key, "/v1/chat/completions", { ...hello(), model: "claude" });
    expect(crossRoute.status).toBe(404);
    expect(((await crossRoute.json()) as ErrorBody).error.code).toBe("model_not_found");
    expect((await callGateway(a.key, "/v1/chat/completions", { ...hello(), model: "anthropic/claude-haiku-4-5" })).status).toBe(404);
    expect((await callGateway(b.key, "/v1/chat/completions", hello())).status).toBe(404);
    expect((await callGateway(b.key, "/v1/chat/completions", { ...hello(), model: "openai/gpt-4o-mini" })).status).toBe(404);

    // Each upstream saw only its own workspace's traffic.
    expect((await upstreamRequests(a.scenario)).map((r) => r.path)).toEqual(["/v1/chat/completions"]);
    expect((await upstreamRequests(b.scenario)).map((r) => r.path)).toEqual(["/v1/messages"]);

    const models = (await (await gateway("/v1/models", { headers: { authorization: `Bearer ${a.key}` } })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(["smart", "openai/gpt-4o-mini"]);
  });

  it("usage and limits are per key: one workspace's exhausted limit leaves the other's untouched", async () => {
    const { a, b } = await twoWorkspaces();
    const limitedA = await addKey(a.id, { rateLimit: { rpm: 1 } });
    const limitedB = await addKey(b.id, { rateLimit: { rpm: 1 } });
    expect((await callGateway(limitedA.key, "/v1/chat/completions", hello())).status).toBe(200);
    expect((await callGateway(limitedA.key, "/v1/chat/completions", hello())).status).toBe(429);
    expect((await callGateway(limitedB.key, "/v1/chat/completions", { ...hello(), model: "claude" })).status).toBe(200);
    expect(await (await admin(`/workspaces/${b.id}/keys/${limitedB.id}/limits`)).json()).toMatchObject({ requestsInWindow: 1 });
    // Keys of one workspace cannot be managed through another.
    expect((await admin(`/workspaces/${b.id}/keys/${limitedA.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await admin(`/workspaces/${b.id}/keys/${limitedA.id}/limits`)).status).toBe(404);
  });

  it("a key restricted to some routes gets 403 on the others and sees only its routes in /v1/models", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: {
        smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } },
        claude: { strategy: "single", target: { provider: "anthropic", model: "claude-haiku-4-5" } },
      },
    }));
    const restricted = await addKey(ws.id, { routes: ["claude"] });
    expect((await callGateway(restricted.key, "/v1/chat/completions", { ...hello(), model: "claude" })).status).toBe(200);
    for (const model of ["smart", "openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]) {
      const res = await callGateway(restricted.key, "/v1/chat/completions", { ...hello(), model });
      expect(res.status, model).toBe(403);
      const body = (await res.json()) as ErrorBody;
      expect(body.error).toMatchObject({ code: "model_not_allowed", param: "model", type: "permission_error" });
      expect(body.error.message).toContain('"claude"');
    }
    const models = (await (await gateway("/v1/models", { headers: { authorization: `Bearer ${restricted.key}` } })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(["claude"]);
    // The unrestricted key of the same workspace still reaches everything.
    expect((await callGateway(ws.key, "/v1/chat/completions", hello())).status).toBe(200);
  });
});

describe("keys: expiry and revocation", () => {
  it("an expired key is refused with 401", async () => {
    const ws = await newWorkspace();
    const expired = await addKey(ws.id, { expiresAt: new Date(Date.now() - 1_000).toISOString() });
    const res = await callGateway(expired.key, "/v1/chat/completions", hello());
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).error.code).toBe("key_expired");
    const future = await addKey(ws.id, { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await callGateway(future.key, "/v1/chat/completions", hello())).status).toBe(200);
    // Expiring an active key with PATCH takes effect on the next request.
    await admin(`/workspaces/${ws.id}/keys/${future.id}`, { method: "PATCH", body: JSON.stringify({ expiresAt: new Date(Date.now() - 1).toISOString() }) });
    expect((await callGateway(future.key, "/v1/chat/completions", hello())).status).toBe(401);
  });

  it("a revoked key stops working within seconds (here: on the next request)", async () => {
    const ws = await newWorkspace();
    expect((await callGateway(ws.key, "/v1/chat/completions", hello())).status).toBe(200);
    await admin(`/workspaces/${ws.id}/keys/${ws.keyId}`, { method: "DELETE" });
    const res = await callGateway(ws.key, "/v1/chat/completions", hello());
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_api_key");
  });
});

describe("workspace selection", () => {
  it("on <workspace>.<GATEWAY_DOMAIN> only that workspace's keys are accepted", async () => {
    const { a, b } = await twoWorkspaces();
    expect((await chatOnHost(`${a.id}.gateway.test`, a.key)).status).toBe(200);
    const wrong = await chatOnHost(`${a.id}.gateway.test`, b.key, { ...hello(), model: "claude" });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as ErrorBody).error).toMatchObject({ code: "workspace_mismatch", type: "permission_error" });
    // The bare domain and other hosts: the key alone decides.
    expect((await chatOnHost("gateway.test", b.key, { ...hello(), model: "claude" })).status).toBe(200);
    expect((await chatOnHost("switchyard.example.workers.dev", a.key)).status).toBe(200);
  });

  it("x-switchyard-workspace selects a workspace for the admin token's test requests; gateway keys cannot use it to switch", async () => {
    const { a, b } = await twoWorkspaces();
    const asAdmin = await callGateway(TEST_ADMIN_TOKEN, "/v1/chat/completions", { ...hello(), model: "claude" }, { "x-switchyard-workspace": b.id });
    expect(asAdmin.status).toBe(200);
    expect((await upstreamRequests(b.scenario)).length).toBe(1);
    // The admin token through a subdomain selects that workspace too.
    expect((await chatOnHost(`${a.id}.gateway.test`, TEST_ADMIN_TOKEN)).status).toBe(200);
    // Without a workspace the admin token is not a gateway key.
    const none = await callGateway(TEST_ADMIN_TOKEN, "/v1/chat/completions", hello());
    expect(none.status).toBe(400);
    expect(((await none.json()) as ErrorBody).error.param).toBe("x-switchyard-workspace");
    // A gateway key naming another workspace in the header is refused; naming its own is fine.
    expect((await callGateway(a.key, "/v1/chat/completions", hello(), { "x-switchyard-workspace": b.id })).status).toBe(403);
    expect((await callGateway(a.key, "/v1/chat/completions", hello(), { "x-switchyard-workspace": a.id })).status).toBe(200);
  });
});
