import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { putCredential } from "../../src/config/credential-store";
import { MasterKeyring } from "../../src/lib/master-keys";
import { TEST_PREVIOUS_MASTER_KEY } from "../fixtures";
import { admin, callGateway, newWorkspace, simulatorOrigin, upstreamRequests } from "../helpers";
import { hello, type ErrorBody } from "./tenancy-helpers";

const putSecret = (workspaceId: string, value: string) => admin(`/workspaces/${workspaceId}/credentials/openai-main`, { method: "PUT", body: JSON.stringify({ value }) });

/**
 * A workspace whose OpenAI provider authenticates with the stored credential `openai-main` (stored first, with a
 * placeholder value: a config may only name credentials its workspace has).
 */
async function storedCredentialWorkspace() {
  const ws = await newWorkspace();
  await putSecret(ws.id, "sk-sim-placeholder");
  const config = {
    providers: { openai: { type: "openai", baseURL: `${simulatorOrigin()}/s/${ws.scenario}/openai/v1`, apiKey: { credential: "openai-main" } } },
    routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
  };
  const res = await admin(`/workspaces/${ws.id}/config`, { method: "PUT", body: JSON.stringify(config) });
  if (res.status !== 200) throw new Error(`config refused: ${await res.text()}`);
  return ws;
}

describe("stored provider credentials (virtual keys)", () => {
  it("the stored secret is what the upstream receives, and no admin answer ever contains it", async () => {
    const ws = await storedCredentialWorkspace();
    const secret = `sk-sim-virtual-${crypto.randomUUID()}`;
    const stored = await putSecret(ws.id, secret);
    expect(await stored.text()).not.toContain(secret);

    const res = await callGateway(ws.key, "/v1/chat/completions", hello());
    expect(res.status).toBe(200);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.headers.authorization).toBe(`Bearer ${secret}`);

    for (const path of [`/workspaces/${ws.id}/credentials`, `/workspaces/${ws.id}/config`, `/workspaces/${ws.id}`, `/workspaces/${ws.id}/keys`]) {
      expect(await (await admin(path)).text(), path).not.toContain(secret);
    }
    // At rest it is ciphertext: the KV value does not contain the secret either.
    const raw = await env.GATEWAY_KV.get(`cred:${ws.id}:openai-main`);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(btoa(secret));
  });

  it("a missing credential is a configuration error naming it, and one workspace cannot use another's", async () => {
    const owner = await storedCredentialWorkspace();
    await putSecret(owner.id, "sk-sim-owner-only");
    const other = await storedCredentialWorkspace();
    await admin(`/workspaces/${other.id}/credentials/openai-main`, { method: "DELETE" });
    const res = await callGateway(other.key, "/v1/chat/completions", hello());
    expect(res.status).toBe(503);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toMatchObject({ type: "configuration_error", code: "credential_missing" });
    expect(body.error.message).toContain('"openai-main"');
    expect(JSON.stringify(body)).not.toContain("sk-sim-owner-only");
    expect(await upstreamRequests(other.scenario)).toEqual([]);
  });

  it("a replaced credential is used from the next request; a deleted one stops being used", async () => {
    const ws = await storedCredentialWorkspace();
    await putSecret(ws.id, "sk-sim-first");
    await callGateway(ws.key, "/v1/chat/completions", hello());
    await putSecret(ws.id, "sk-sim-second");
    await callGateway(ws.key, "/v1/chat/completions", hello());
    expect((await upstreamRequests(ws.scenario)).map((r) => r.headers.authorization)).toEqual(["Bearer sk-sim-first", "Bearer sk-sim-second"]);
    await admin(`/workspaces/${ws.id}/credentials/openai-main`, { method: "DELETE" });
    expect((await callGateway(ws.key, "/v1/chat/completions", hello())).status).toBe(503);
  });

  it("rotation re-encrypts credentials sealed under a previous master key, which keep working throughout", async () => {
    const ws = await storedCredentialWorkspace();
    // Sealed as a deployment whose current key was k1 would have (k1 is now in MASTER_KEYS_PREVIOUS).
    const previous = MasterKeyring.fromEnv({ MASTER_KEY: TEST_PREVIOUS_MASTER_KEY.key, MASTER_KEY_ID: TEST_PREVIOUS_MASTER_KEY.id });
    await putCredential(env, ws.id, "openai-main", "sk-sim-from-k1", previous);
    expect(await (await admin(`/workspaces/${ws.id}/credentials`)).json()).toMatchObject({ data: [{ name: "openai-main", masterKeyId: "k1" }] });
    expect((await callGateway(ws.key, "/v1/chat/completions", hello())).status).toBe(200);
    const before = await env.GATEWAY_KV.get(`cred:${ws.id}:openai-main`);

    const rotated = await admin("/credentials/rotate", { method: "POST" });
    expect(rotated.status).toBe(200);
    const report = (await rotated.json()) as { masterKeyId: string; rotated: number; failed: unknown[] };
    expect(report.masterKeyId).toBe("k2");
    expect(report.rotated).toBeGreaterThanOrEqual(1);
    expect(report.failed).toEqual([]);
    expect(JSON.stringify(report)).not.toContain("sk-sim-from-k1");

    expect(await (await admin(`/workspaces/${ws.id}/credentials`)).json()).toMatchObject({ data: [{ name: "openai-main", masterKeyId: "k2" }] });
    expect(await env.GATEWAY_KV.get(`cred:${ws.id}:openai-main`)).not.toBe(before);
    // Decryptable with the current key alone: the previous key is no longer needed.
    const currentOnly = MasterKeyring.fromEnv({ MASTER_KEY: Reflect.get(env, "MASTER_KEY"), MASTER_KEY_ID: "k2" });
    const stored = JSON.parse((await env.GATEWAY_KV.get(`cred:${ws.id}:openai-main`))!) as { keyId: string; iv: string; ciphertext: string };
    expect(await currentOnly.open(stored, `switchyard-credential:${ws.id}:openai-main`)).toBe("sk-sim-from-k1");

    expect((await callGateway(ws.key, "/v1/chat/completions", hello())).status).toBe(200);
    expect((await upstreamRequests(ws.scenario)).map((r) => r.headers.authorization)).toEqual(["Bearer sk-sim-from-k1", "Bearer sk-sim-from-k1"]);
    // A second rotation has nothing left to do for it.
    const again = (await (await admin("/credentials/rotate", { method: "POST" })).json()) as { rotated: number };
    expect(again.rotated).toBe(0);
  });

  it("a ciphertext moved to another workspace does not decrypt there", async () => {
    const owner = await storedCredentialWorkspace();
    await putSecret(owner.id, "sk-sim-bound");
    const thief = await storedCredentialWorkspace();
    await env.GATEWAY_KV.put(`cred:${thief.id}:openai-main`, (await env.GATEWAY_KV.get(`cred:${owner.id}:openai-main`))!.replace(`"workspaceId":"${owner.id}"`, `"workspaceId":"${thief.id}"`));
    const res = await callGateway(thief.key, "/v1/chat/completions", hello());
    expect(res.status).toBe(503);
    expect(await upstreamRequests(thief.scenario)).toEqual([]);
  });
});
