import { describe, expect, it } from "vitest";
import { upstreamURLProblem } from "../../src/config/upstream-addresses";
import { TEST_SERVICE_ACCOUNT_JSON } from "../simulators/google-test-keys";
import { admin, callGateway, scriptFaults, simulatorOrigin, upstreamRequests } from "../helpers";
import { hello, keyFor, openAIProvider, putConfig, storeConfigBehindTheAdminAPI, workspaceNamed, type ErrorBody } from "./security-helpers";

const NON_PUBLIC = [
  "http://127.0.0.1:8080/v1",
  "http://127.1/v1",
  "http://2130706433/v1",
  "http://0x7f000001/v1",
  "http://0177.0.0.1/v1",
  "http://0x7f.0.0.1/v1",
  "http://localhost:11434/v1",
  "http://LOCALHOST./v1",
  "http://api.localhost/v1",
  "http://0.0.0.0/v1",
  "http://10.1.2.3/v1",
  "http://172.16.0.1/v1",
  "http://172.31.255.255/v1",
  "http://192.168.1.10/v1",
  "http://100.64.0.1/v1",
  "http://100.100.100.200/v1",
  "http://169.254.169.254/latest/meta-data",
  "http://192.0.0.192/",
  "http://224.0.0.1/",
  "http://255.255.255.255/",
  "http://metadata.google.internal/computeMetadata/v1",
  "http://metadata/computeMetadata/v1",
  "http://ollama:11434/v1",
  "http://printer.local/",
  "http://[::1]/v1",
  "http://[::]/v1",
  "http://[::ffff:127.0.0.1]/v1",
  "http://[::ffff:a9fe:a9fe]/v1",
  "http://[0:0:0:0:0:ffff:10.0.0.1]/v1",
  "http://[fd00::1]/v1",
  "http://[fd00:ec2::254]/latest",
  "http://[fe80::1]/v1",
  "http://[64:ff9b::a9fe:a9fe]/v1",
  "http://[2002:a9fe:a9fe::1]/v1",
  "http://[ff02::1]/v1",
];

const PUBLIC = ["https://api.openai.com/v1", "https://my-resource.openai.azure.com", "http://8.8.8.8/v1", "https://[2606:4700:4700::1111]/v1", "https://172.32.0.1/", "https://100.128.0.1/", "https://[::ffff:8.8.8.8]/"];

describe("which upstream addresses a workspace config may name", () => {
  it.each(NON_PUBLIC)("%s is not public", (url) => {
    expect(upstreamURLProblem(url, { privateAllowed: false })).toMatch(/not a public address|local name/);
    expect(upstreamURLProblem(url, { privateAllowed: true })).toBeUndefined();
  });

  it.each(PUBLIC)("%s is public", (url) => {
    expect(upstreamURLProblem(url, { privateAllowed: false })).toBeUndefined();
  });

  it.each(["https://api.openai.com/v1?", "https://api.openai.com/v1?x=1", "https://api.openai.com/v1#", "https://user:pw@api.openai.com/v1", "ftp://api.openai.com/"])("%s is refused even where private addresses are allowed", (url) => {
    expect(upstreamURLProblem(url, { privateAllowed: true })).toBeDefined();
  });
});

async function expectAddressRefused(res: Response, param: string, code = "upstream_address_not_allowed") {
  const body = (await res.json()) as ErrorBody;
  expect(res.status, JSON.stringify(body)).toBe(400);
  expect(body.error.param).toBe(param);
  expect(body.error.code).toBe(code);
}

describe("server-side requests stay on public addresses unless the operator allows more", () => {
  it("a PUT naming a private, loopback, link-local or metadata address is a 400 naming the field", async () => {
    const ws = await workspaceNamed("pub-");
    await admin(`/workspaces/${ws.id}/credentials/main`, { method: "PUT", body: JSON.stringify({ value: "sk-sim-x" }) });
    const apiKey = { credential: "main" };
    await expectAddressRefused(await putConfig(ws.id, { providers: { openai: { type: "openai", baseURL: "http://169.254.169.254/latest", apiKey } } }), "providers.openai.baseURL");
    await expectAddressRefused(await putConfig(ws.id, { providers: { openai: { type: "openai", baseURL: "http://[::ffff:127.0.0.1]:8787/v1", apiKey } } }), "providers.openai.baseURL");
    await expectAddressRefused(await putConfig(ws.id, { providers: { local: { type: "openai-compatible", preset: "ollama" } } }), "providers.local.preset");
    await expectAddressRefused(await putConfig(ws.id, { providers: { v: { type: "vertex", project: "p", location: "us-east5", serviceAccount: apiKey, tokenURL: "http://10.0.0.1/token" } } }), "providers.v.tokenURL");
    await expectAddressRefused(await putConfig(ws.id, { providers: { aws: { type: "bedrock", region: "us-east-1", accessKeyId: apiKey, secretAccessKey: apiKey, baseURL: "http://192.168.0.10" } } }), "providers.aws.baseURL");
    expect((await putConfig(ws.id, { providers: { openai: { type: "openai", baseURL: "https://api.openai.com/v1", apiKey } } })).status).toBe(200);
  });

  it("refuses `?` and `#` in a base URL for every workspace, the operator's allowed ones included", async () => {
    const ws = await workspaceNamed("t-");
    for (const suffix of ["?", "?x=", "#"]) {
      await expectAddressRefused(await putConfig(ws.id, { providers: { openai: { ...openAIProvider(ws.scenario, { env: "OPENAI_API_KEY" }), baseURL: `${simulatorOrigin()}/s/${ws.scenario}/openai/v1${suffix}` } } }), "providers.openai.baseURL", "invalid_config");
    }
  });

  it("a workspace the operator allowed may name local servers", async () => {
    const ws = await workspaceNamed("t-");
    expect((await putConfig(ws.id, { providers: { local: { type: "openai-compatible", preset: "ollama" } } })).status).toBe(200);
  });

  it("refuses at request time too: a stored config naming a loopback address is never called", async () => {
    const ws = await workspaceNamed("pub-");
    await admin(`/workspaces/${ws.id}/credentials/main`, { method: "PUT", body: JSON.stringify({ value: "sk-sim-x" }) });
    await storeConfigBehindTheAdminAPI(ws.id, { providers: { openai: openAIProvider(ws.scenario, { credential: "main" }) } });
    const res = await callGateway(await keyFor(ws.id), "/v1/chat/completions", hello());
    const body = (await res.json()) as ErrorBody;
    expect(res.status, JSON.stringify(body)).toBe(503);
    expect(body.error.code).toBe("upstream_address_not_allowed");
    expect(await upstreamRequests(ws.scenario)).toEqual([]);
  });

  it("a service account whose token_uri points inside is refused before the token exchange", async () => {
    const ws = await workspaceNamed("pub-");
    const key = { ...(JSON.parse(TEST_SERVICE_ACCOUNT_JSON) as Record<string, unknown>), token_uri: `${simulatorOrigin()}/s/${ws.scenario}/vertex/token` };
    await admin(`/workspaces/${ws.id}/credentials/sa`, { method: "PUT", body: JSON.stringify({ value: JSON.stringify(key) }) });
    expect((await putConfig(ws.id, { providers: { vertex: { type: "vertex", project: "p", location: "us-east5", serviceAccount: { credential: "sa" } } } })).status).toBe(200);
    const res = await callGateway(await keyFor(ws.id), "/v1/chat/completions", hello("vertex/gemini-2.5-flash"));
    const body = (await res.json()) as ErrorBody;
    expect(res.status, JSON.stringify(body)).toBe(503);
    expect(body.error.code).toBe("upstream_address_not_allowed");
    expect(await upstreamRequests(ws.scenario)).toEqual([]);
  });

  it("does not follow an upstream's redirect", async () => {
    const ws = await workspaceNamed("t-");
    expect((await putConfig(ws.id, { providers: { openai: openAIProvider(ws.scenario, { env: "OPENAI_API_KEY" }) } })).status).toBe(200);
    const elsewhere = `${ws.scenario}-elsewhere`;
    await scriptFaults(ws.scenario, [{ status: 307, headers: { location: `${simulatorOrigin()}/s/${elsewhere}/openai/v1/chat/completions` } }]);
    const res = await callGateway(await keyFor(ws.id), "/v1/chat/completions", hello());
    expect(res.status).toBe(502);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("upstream_redirect");
    expect(body.error.message).not.toContain(elsewhere);
    expect(await upstreamRequests(elsewhere)).toEqual([]);
  });
});

describe("an upstream's error body is passed on only in the provider's own error shape", () => {
  it.each([
    ["an HTML page", "<html><body>nginx internal 10.0.3.7 db-password=hunter2</body></html>"],
    ["plain text", "upstream connect error: internal host vault.internal:8200 refused"],
    ["JSON of another shape", '{"detail":"internal: vault.internal:8200 refused","trace":"at db.py:12"}'],
  ])("%s is never echoed", async (_kind, body) => {
    const ws = await workspaceNamed("t-");
    expect((await putConfig(ws.id, { providers: { openai: openAIProvider(ws.scenario, { env: "OPENAI_API_KEY" }), anthropic: { type: "anthropic", baseURL: `${simulatorOrigin()}/s/${ws.scenario}/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } } } })).status).toBe(200);
    const key = await keyFor(ws.id);
    for (const model of ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]) {
      for (const status of [400, 503]) {
        await scriptFaults(ws.scenario, [{ status, body }]);
        const res = await callGateway(key, "/v1/chat/completions", hello(model));
        const text = await res.text();
        expect(res.status).toBe(status >= 500 ? 502 : status);
        expect(text).not.toMatch(/internal|hunter2|nginx|<html/);
        expect(((JSON.parse(text) as ErrorBody).error.message)).toContain(`HTTP ${status}`);
      }
    }
  });
});
