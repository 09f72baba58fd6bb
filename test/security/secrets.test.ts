import { describe, expect, it, vi } from "vitest";
import wranglerToml from "../../wrangler.toml?raw";
import readme from "../../README.md?raw";
import exampleConfig from "../../switchyard.example.json?raw";
import { GATEWAY_SECRET_NAMES, envSecretRefusal, parseSecretRules } from "../../src/config/secret-rules";
import { TEST_ADMIN_TOKEN, TEST_MASTER_KEYS } from "../fixtures";
import { admin, callGateway, scriptFaults, simulatorOrigin, upstreamRequests } from "../helpers";
import { readUntilEnd } from "../routing/setup";
import { TEST_SERVICE_ACCOUNT_JSON } from "../simulators/google-test-keys";
import { copiesOf, hello, keyFor, openAIProvider, putConfig, storeConfigBehindTheAdminAPI, workspaceNamed, type ErrorBody } from "./security-helpers";

const GATEWAY_SECRETS = { ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...TEST_MASTER_KEYS };

async function expectRefused(res: Response, param: string, code: string) {
  const body = (await res.json()) as ErrorBody;
  expect(res.status, JSON.stringify(body)).toBe(400);
  expect(body.error.param).toBe(param);
  expect(body.error.code).toBe(code);
  return body;
}

describe("a config reaches only provider secrets", () => {
  it.each(Object.keys(GATEWAY_SECRETS))("refuses %s in every secret field, even for a workspace granted every provider secret", async (name) => {
    const ws = await workspaceNamed("t-");
    const configs: [Record<string, unknown>, string][] = [
      [{ openai: openAIProvider(ws.scenario, { env: name }) }, "providers.openai.apiKey.env"],
      [{ a: { type: "anthropic", apiKey: { env: name } } }, "providers.a.apiKey.env"],
      [{ aws: { type: "bedrock", region: "us-east-1", accessKeyId: { env: "AWS_ACCESS_KEY_ID" }, secretAccessKey: { env: name } } }, "providers.aws.secretAccessKey.env"],
      [{ v: { type: "vertex", project: "p", location: "us-east5", serviceAccount: { env: name } } }, "providers.v.serviceAccount.env"],
      [{ c: { type: "openai-compatible", preset: "groq", apiKey: { env: "GROQ_API_KEY" }, headers: { "x-extra": { env: name } } } }, "providers.c.headers.x-extra.env"],
    ];
    for (const [providers, param] of configs) {
      const body = await expectRefused(await putConfig(ws.id, { providers }), param, "secret_not_allowed");
      expect(body.error.message).toContain(name);
    }
  });

  it("refuses a Worker secret that is not on the provider-secret allow-list", async () => {
    const ws = await workspaceNamed("t-");
    await expectRefused(await putConfig(ws.id, { providers: { openai: openAIProvider(ws.scenario, { env: "UNLISTED_SECRET" }) } }), "providers.openai.apiKey.env", "secret_not_allowed");
  });

  it("a workspace without a grant may use stored credentials, but no Worker secret", async () => {
    const ws = await workspaceNamed("nogrant-");
    await expectRefused(await putConfig(ws.id, { providers: { openai: { type: "openai", apiKey: { env: "OPENAI_API_KEY" } } } }), "providers.openai.apiKey.env", "secret_not_allowed");
    await admin(`/workspaces/${ws.id}/credentials/main`, { method: "PUT", body: JSON.stringify({ value: "sk-sim-stored" }) });
    expect((await putConfig(ws.id, { providers: { openai: { type: "openai", apiKey: { credential: "main" } } } })).status).toBe(200);
  });

  it("a workspace granted some names may use exactly those", async () => {
    const ws = await workspaceNamed("granted-");
    expect((await putConfig(ws.id, { providers: { openai: openAIProvider(ws.scenario, { env: "OPENAI_API_KEY" }) } })).status).toBe(200);
    await expectRefused(await putConfig(ws.id, { providers: { a: { type: "anthropic", apiKey: { env: "ANTHROPIC_API_KEY" } } } }), "providers.a.apiKey.env", "secret_not_allowed");
  });

  it("refuses at request time too: a stored config naming a gateway secret never sends it anywhere", async () => {
    for (const name of ["ADMIN_TOKEN", "MASTER_KEY"] as const) {
      const ws = await workspaceNamed("t-");
      await storeConfigBehindTheAdminAPI(ws.id, { providers: { openai: openAIProvider(ws.scenario, { env: name }), a: { type: "anthropic", baseURL: `${simulatorOrigin()}/s/${ws.scenario}/anthropic`, apiKey: { env: name } } } });
      const key = await keyFor(ws.id);
      for (const [path, model] of [["/v1/chat/completions", "openai/gpt-4o-mini"], ["/v1/messages", "a/claude-haiku-4-5"]] as const) {
        const res = await callGateway(key, path, { ...hello(model), max_tokens: 5 });
        const text = await res.text();
        expect(res.status, text).toBe(503);
        expect(text).toContain(path === "/v1/messages" ? `may not use the secret ${name}` : "secret_not_allowed");
        expect(text).not.toContain(GATEWAY_SECRETS[name]);
      }
      expect(await upstreamRequests(ws.scenario)).toEqual([]);
    }
  });

  it("a workspace's grant is checked at request time as well", async () => {
    const ws = await workspaceNamed("granted-");
    await storeConfigBehindTheAdminAPI(ws.id, { providers: { openai: openAIProvider(ws.scenario, { env: "ANTHROPIC_API_KEY" }) } });
    const res = await callGateway(await keyFor(ws.id), "/v1/chat/completions", hello());
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).error.code).toBe("secret_not_allowed");
    expect(await upstreamRequests(ws.scenario)).toEqual([]);
  });

  it("the gateway's own secrets are refused even when the allow-list names them", () => {
    const rules = parseSecretRules({ providerSecrets: "*,ADMIN_TOKEN,MASTER_KEY*", workspaceGrants: "*=*" });
    for (const name of GATEWAY_SECRET_NAMES) {
      expect(envSecretRefusal(rules, "default", name), name).toBeDefined();
      expect(envSecretRefusal(rules, "team", name), name).toBeDefined();
    }
    expect(envSecretRefusal(rules, "team", "OPENAI_API_KEY")).toBeUndefined();
    for (const name of Object.keys(GATEWAY_SECRETS)) expect(GATEWAY_SECRET_NAMES).toContain(name);
  });

  it("grants: exact names, trailing wildcards, per workspace or for all; the allow-list bounds them", () => {
    const rules = parseSecretRules({ providerSecrets: "OPENAI_API_KEY, GROQ_API_KEY,PROVIDER_*", workspaceGrants: "search=OPENAI_API_KEY,PROVIDER_A*; ml-*=GROQ_API_KEY ;*=PROVIDER_SHARED" });
    expect(envSecretRefusal(rules, "default", "GROQ_API_KEY")).toBeUndefined();
    expect(envSecretRefusal(rules, "default", "ANTHROPIC_API_KEY")).toBeDefined();
    expect(envSecretRefusal(rules, "search", "OPENAI_API_KEY")).toBeUndefined();
    expect(envSecretRefusal(rules, "search", "PROVIDER_ABC")).toBeUndefined();
    expect(envSecretRefusal(rules, "search", "PROVIDER_B")).toBeDefined();
    expect(envSecretRefusal(rules, "search", "GROQ_API_KEY")).toBeDefined();
    expect(envSecretRefusal(rules, "ml-east", "GROQ_API_KEY")).toBeUndefined();
    expect(envSecretRefusal(rules, "ads", "PROVIDER_SHARED")).toBeUndefined();
    expect(envSecretRefusal(rules, "ads", "OPENAI_API_KEY")).toBeDefined();
    // A grant outside the allow-list grants nothing.
    expect(envSecretRefusal(parseSecretRules({ providerSecrets: "OPENAI_API_KEY", workspaceGrants: "ads=UNLISTED" }), "ads", "UNLISTED")).toBeDefined();
  });

  it("wrangler.toml's allow-list covers every provider secret the README and the example config name", () => {
    const listed = /^PROVIDER_SECRETS\s*=\s*"([^"]*)"/m.exec(wranglerToml)?.[1];
    expect(listed).toBeDefined();
    const rules = parseSecretRules({ providerSecrets: listed!, workspaceGrants: "" });
    const named = new Set([...`${readme}\n${exampleConfig}`.matchAll(/"env":\s*"([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]!).filter((name) => name !== "NAME"));
    expect(named.size).toBeGreaterThan(8);
    for (const name of named) expect(envSecretRefusal(rules, "default", name), name).toBeUndefined();
  });
});

describe("stored credential references", () => {
  it("a PUT naming a credential the workspace does not have is a 400 naming the field", async () => {
    const ws = await workspaceNamed("t-");
    const body = await expectRefused(await putConfig(ws.id, { providers: { openai: openAIProvider(ws.scenario, { credential: "nope" }) } }), "providers.openai.apiKey.credential", "credential_not_found");
    expect(body.error.message).toContain('"nope"');
  });

  it("a credential deleted after the config was written is a 503 naming it, and nothing is sent upstream", async () => {
    const ws = await workspaceNamed("t-");
    await admin(`/workspaces/${ws.id}/credentials/main`, { method: "PUT", body: JSON.stringify({ value: "sk-sim-gone-soon" }) });
    expect((await putConfig(ws.id, { providers: { openai: openAIProvider(ws.scenario, { credential: "main" }) } })).status).toBe(200);
    expect((await admin(`/workspaces/${ws.id}/credentials/main`, { method: "DELETE" })).status).toBe(200);
    const res = await callGateway(await keyFor(ws.id), "/v1/chat/completions", hello());
    expect(res.status).toBe(503);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toMatchObject({ type: "configuration_error", code: "credential_missing" });
    expect(body.error.message).toContain('"main"');
    expect(await upstreamRequests(ws.scenario)).toEqual([]);
  });
});

/** A credential with characters that URL-encoding and base64 change, stored for a fresh workspace. */
async function workspaceWithOddSecret(): Promise<{ id: string; scenario: string; key: string; secret: string }> {
  const ws = await workspaceNamed("t-");
  const secret = `sk-sim-p@ss/w0rd+${crypto.randomUUID()}=&key`;
  await admin(`/workspaces/${ws.id}/credentials/main`, { method: "PUT", body: JSON.stringify({ value: secret }) });
  const anthropic = { type: "anthropic", baseURL: `${simulatorOrigin()}/s/${ws.scenario}/anthropic`, apiKey: { credential: "main" } };
  expect((await putConfig(ws.id, { providers: { openai: openAIProvider(ws.scenario, { credential: "main" }), anthropic } })).status).toBe(200);
  return { ...ws, key: await keyFor(ws.id), secret };
}

const echoing = (secret: string) => copiesOf(secret).map((copy, i) => `copy ${i}: <${copy}>`).join(" ");

describe("provider secrets never reach the client or the log", () => {
  it.each([
    ["OpenAI", "/v1/chat/completions", "openai/gpt-4o-mini"],
    ["Anthropic", "/v1/messages", "anthropic/claude-haiku-4-5"],
  ])("redacts a secret (and its base64 and URL-encoded copies) in a mid-stream %s error", async (_dialect, path, model) => {
    const ws = await workspaceWithOddSecret();
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 2, drop: "error", chunkDelayMs: 10, message: `upstream echoes ${echoing(ws.secret)}` }]);
    const logged = vi.spyOn(console, "error");
    const warned = vi.spyOn(console, "warn");
    const logs = vi.spyOn(console, "log");
    try {
      const res = await callGateway(ws.key, path, { ...hello(model), max_tokens: 50, stream: true });
      expect(res.status).toBe(200);
      const { text, failed } = await readUntilEnd(res);
      expect(failed).toBe(true);
      expect(text).toContain("upstream echoes");
      expect(text).toContain("[redacted]");
      for (const copy of copiesOf(ws.secret)) expect(text).not.toContain(copy);
      const logText = JSON.stringify([...logged.mock.calls, ...warned.mock.calls, ...logs.mock.calls]);
      for (const copy of copiesOf(ws.secret)) expect(logText).not.toContain(copy);
    } finally {
      logged.mockRestore();
      warned.mockRestore();
      logs.mockRestore();
    }
  });

  it("redacts a stream error that arrives before the first event (a JSON error answer)", async () => {
    const ws = await workspaceWithOddSecret();
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 0, drop: "error", message: `bad key ${echoing(ws.secret)}` }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { ...hello(), stream: true });
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(text).toContain("[redacted]");
    for (const copy of copiesOf(ws.secret)) expect(text).not.toContain(copy);
  });

  it("redacts base64 and URL-encoded copies in an upstream's error answer too", async () => {
    const ws = await workspaceWithOddSecret();
    await scriptFaults(ws.scenario, [{ status: 401, message: `Incorrect API key provided: ${echoing(ws.secret)}` }]);
    const text = await (await callGateway(ws.key, "/v1/chat/completions", hello())).text();
    expect(text).toContain("[redacted]");
    for (const copy of copiesOf(ws.secret)) expect(text).not.toContain(copy);
  });

  it("redacts what a service account yields: its private key and the access token, not only the whole key file", async () => {
    const ws = await workspaceNamed("t-");
    const privateKey = (JSON.parse(TEST_SERVICE_ACCOUNT_JSON) as { private_key: string }).private_key;
    await admin(`/workspaces/${ws.id}/credentials/sa`, { method: "PUT", body: JSON.stringify({ value: TEST_SERVICE_ACCOUNT_JSON }) });
    const vertex = { type: "vertex", project: "switchyard-sim", location: "us-east5", serviceAccount: { credential: "sa" }, tokenURL: `${simulatorOrigin()}/s/${ws.scenario}/vertex/token`, baseURL: `${simulatorOrigin()}/s/${ws.scenario}/vertex` };
    expect((await putConfig(ws.id, { providers: { vertex } })).status).toBe(200);
    const key = await keyFor(ws.id);
    expect((await callGateway(key, "/v1/chat/completions", hello("vertex/gemini-2.5-flash"))).status).toBe(200);
    const token = (await upstreamRequests(ws.scenario)).find((r) => r.path !== "/token")!.headers.authorization!.slice("Bearer ".length);
    await scriptFaults(ws.scenario, [{ status: 400, message: `token ${token} key ${JSON.stringify(privateKey)} raw ${privateKey}` }]);
    const text = await (await callGateway(key, "/v1/chat/completions", hello("vertex/gemini-2.5-flash"))).text();
    expect(text).toContain("[redacted]");
    expect(text).not.toContain(token);
    expect(text).not.toContain(privateKey.split("\n")[1]!);
  });
});
