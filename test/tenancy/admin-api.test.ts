import { describe, expect, it } from "vitest";
import { admin, callGateway, newWorkspace, simulatorProviders } from "../helpers";
import type { ErrorBody } from "./tenancy-helpers";

const json = (body: unknown) => JSON.stringify(body);
const expectBadField = async (res: Response, param: string) => {
  expect(res.status).toBe(400);
  const body = (await res.json()) as ErrorBody;
  expect(body.error.param).toBe(param);
  expect(body.error.message).toContain(param.split(".")[0]!);
};

describe("admin API: workspaces", () => {
  it("creates, lists, reads and deletes a workspace", async () => {
    const created = await admin("/workspaces", { method: "POST", body: json({ id: "team-a", name: "Team A" }) });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: "team-a", name: "Team A" });
    expect((await admin("/workspaces", { method: "POST", body: json({ id: "team-a", name: "again" }) })).status).toBe(409);

    const list = (await (await admin("/workspaces")).json()) as { data: { id: string }[] };
    expect(list.data.map((w) => w.id)).toEqual(expect.arrayContaining(["default", "team-a"]));
    expect(await (await admin("/workspaces/team-a")).json()).toMatchObject({ id: "team-a", name: "Team A" });

    expect(await (await admin("/workspaces/team-a", { method: "DELETE" })).json()).toEqual({ id: "team-a", deleted: true });
    expect((await admin("/workspaces/team-a")).status).toBe(404);
    expect((await admin("/workspaces/default", { method: "DELETE" })).status).toBe(400);
  });

  it("refuses bad workspace payloads with 400 naming the field", async () => {
    await expectBadField(await admin("/workspaces", { method: "POST", body: json({ id: "Not A Label", name: "x" }) }), "id");
    await expectBadField(await admin("/workspaces", { method: "POST", body: json({ id: "ok-id" }) }), "name");
    await expectBadField(await admin("/workspaces", { method: "POST", body: json({ id: "ok-id", name: "x", extra: 1 }) }), "extra");
  });

  it("stores and returns a workspace config, refusing an invalid one with the field's path", async () => {
    await admin("/workspaces", { method: "POST", body: json({ id: "t-cfg-ws", name: "cfg" }) });
    expect((await admin("/workspaces/t-cfg-ws/config")).status).toBe(404);
    const config = { providers: simulatorProviders("cfg"), routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } } };
    expect((await admin("/workspaces/t-cfg-ws/config", { method: "PUT", body: json(config) })).status).toBe(200);
    expect(await (await admin("/workspaces/t-cfg-ws/config")).json()).toMatchObject({ routes: { smart: { target: { model: "gpt-4o-mini" } } } });
    const broken = { ...config, routes: { smart: { strategy: "single", target: { provider: "nope", model: "m" } } } };
    await expectBadField(await admin("/workspaces/t-cfg-ws/config", { method: "PUT", body: json(broken) }), "routes.smart.target.provider");
  });

  it("needs the admin token", async () => {
    expect((await admin("/workspaces", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });
});

describe("admin API: keys", () => {
  it("creates a key with limits, lists it without secrets, changes and removes limits, revokes it", async () => {
    const ws = await newWorkspace();
    const res = await admin(`/workspaces/${ws.id}/keys`, {
      method: "POST",
      body: json({ name: "ci", rateLimit: { rpm: 10, tpm: 5000 }, budget: { usd: 5, period: "month" }, routes: ["smart"], expiresAt: "2099-01-01T00:00:00Z" }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; key: string };
    expect(created).toMatchObject({ name: "ci", rateLimit: { rpm: 10, tpm: 5000 }, budget: { usd: 5, period: "month" }, routes: ["smart"], expiresAt: "2099-01-01T00:00:00Z" });
    expect(created.key).toMatch(/^sy-/);

    const listText = await (await admin(`/workspaces/${ws.id}/keys`)).text();
    expect(listText).not.toContain(created.key);
    expect(listText).not.toContain("hash");
    const list = JSON.parse(listText) as { data: { id: string; rateLimit?: unknown }[] };
    expect(list.data.find((k) => k.id === created.id)?.rateLimit).toEqual({ rpm: 10, tpm: 5000 });

    const patched = await admin(`/workspaces/${ws.id}/keys/${created.id}`, { method: "PATCH", body: json({ rateLimit: { rpm: 2 }, budget: null }) });
    expect(patched.status).toBe(200);
    const after = (await patched.json()) as Record<string, unknown>;
    expect(after.rateLimit).toEqual({ rpm: 2 });
    expect(after).not.toHaveProperty("budget");
    expect(after).not.toHaveProperty("key");
    expect(await (await admin(`/workspaces/${ws.id}/keys/${created.id}`)).json()).toMatchObject({ rateLimit: { rpm: 2 }, routes: ["smart"] });

    // The key still works (limits changed, not the secret) and the snapshot shows the counted request.
    expect((await callGateway(created.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "x" }] })).status).toBe(200);
    expect(await (await admin(`/workspaces/${ws.id}/keys/${created.id}/limits`)).json()).toMatchObject({ requestsInWindow: 1 });

    expect((await admin(`/workspaces/${ws.id}/keys/${created.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await admin(`/workspaces/${ws.id}/keys/${created.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await admin(`/workspaces/${ws.id}/keys/${created.id}`, { method: "PATCH", body: json({ name: "x" }) })).status).toBe(404);
  });

  it("refuses bad key payloads with 400 naming the field", async () => {
    const ws = await newWorkspace();
    const post = (body: unknown) => admin(`/workspaces/${ws.id}/keys`, { method: "POST", body: json(body) });
    await expectBadField(await post({}), "name");
    await expectBadField(await post({ name: "k", rateLimit: { rpm: -1 } }), "rateLimit.rpm");
    await expectBadField(await post({ name: "k", rateLimit: { rpm: 1.5 } }), "rateLimit.rpm");
    await expectBadField(await post({ name: "k", rateLimit: {} }), "rateLimit");
    await expectBadField(await post({ name: "k", budget: { usd: 5, period: "week" } }), "budget.period");
    await expectBadField(await post({ name: "k", budget: { usd: 0, period: "day" } }), "budget.usd");
    await expectBadField(await post({ name: "k", routes: [] }), "routes");
    await expectBadField(await post({ name: "k", expiresAt: "tomorrow" }), "expiresAt");
    const patch = (body: unknown) => admin(`/workspaces/${ws.id}/keys/${ws.keyId}`, { method: "PATCH", body: json(body) });
    await expectBadField(await patch({ budget: { usd: "ten", period: "day" } }), "budget.usd");
    await expectBadField(await patch({ rateLimit: { tpm: 0 } }), "rateLimit.tpm");
    expect((await patch({})).status).toBe(400);
  });
});

describe("admin API: credentials", () => {
  it("stores, lists (metadata only), replaces and deletes a credential; bad payloads are 400", async () => {
    const ws = await newWorkspace();
    const secret = "sk-sim-stored-never-shown-1234";
    const put = await admin(`/workspaces/${ws.id}/credentials/openai-main`, { method: "PUT", body: json({ value: secret }) });
    expect(put.status).toBe(201);
    const putText = await put.text();
    expect(putText).not.toContain(secret);
    expect(JSON.parse(putText)).toMatchObject({ name: "openai-main", masterKeyId: "k2" });
    expect((await admin(`/workspaces/${ws.id}/credentials/openai-main`, { method: "PUT", body: json({ value: `${secret}-2` }) })).status).toBe(200);

    const listText = await (await admin(`/workspaces/${ws.id}/credentials`)).text();
    expect(listText).not.toContain(secret);
    expect(JSON.parse(listText)).toMatchObject({ data: [{ name: "openai-main", masterKeyId: "k2" }] });

    await expectBadField(await admin(`/workspaces/${ws.id}/credentials/openai-main`, { method: "PUT", body: json({}) }), "value");
    await expectBadField(await admin(`/workspaces/${ws.id}/credentials/openai-main`, { method: "PUT", body: json({ value: "" }) }), "value");
    await expectBadField(await admin(`/workspaces/${ws.id}/credentials/bad%20name`, { method: "PUT", body: json({ value: "x" }) }), "name");

    expect((await admin(`/workspaces/${ws.id}/credentials/openai-main`, { method: "DELETE" })).status).toBe(200);
    expect((await admin(`/workspaces/${ws.id}/credentials/openai-main`, { method: "DELETE" })).status).toBe(404);
    expect(await (await admin(`/workspaces/${ws.id}/credentials`)).json()).toEqual({ data: [] });
  });
});
