import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../src/config/json-schema";
import { parseConfig } from "../../src/config/validate";
import committedSchema from "../../switchyard.schema.json";
import example from "../../switchyard.example.json";
import quickstart from "../../switchyard.config.json";
import { admin, callGateway, newWorkspace, simulatorOrigin, upstreamRequests } from "../helpers";

describe("the config document", () => {
  it("accepts the committed quickstart and example documents", () => {
    expect(parseConfig(quickstart)).toMatchObject({ ok: true });
    expect(parseConfig(example)).toMatchObject({ ok: true });
  });

  it("names the path of every bad field", () => {
    const result = parseConfig({
      providers: { openai: { type: "openai", apiKey: "sk-inline-secret" }, weird: { type: "nope" } },
      routes: { smart: { strategy: "single", target: { provider: "missing", model: "x" } } },
    });
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.issues.map((i) => i.path);
    expect(paths).toContain("providers.openai.apiKey");
    expect(paths).toContain("providers.weird.type");
  });

  it("rejects a route to an unknown provider with its path", () => {
    const result = parseConfig({ providers: {}, routes: { smart: { strategy: "single", target: { provider: "missing", model: "x" } } } });
    expect(result.ok ? [] : result.issues).toContainEqual({ path: "routes.smart.target.provider", message: 'unknown provider "missing"' });
  });

  it("rejects invalid JSON text", () => {
    expect(parseConfig("{ nope")).toMatchObject({ ok: false, issues: [{ path: "(root)" }] });
  });

  it("has a committed JSON Schema generated from the zod schema (npm run config:schema)", () => {
    expect(committedSchema).toEqual(configJsonSchema());
  });

  it("is validated by PUT /admin/workspaces/:id/config, naming the bad field", async () => {
    const ws = await newWorkspace();
    const res = await admin(`/workspaces/${ws.id}/config`, { method: "PUT", body: JSON.stringify({ providers: { a: { type: "openai", apiKey: { env: "" } } } }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("providers.a.apiKey.env");
  });

  it("normalises a provider's base URL once: a trailing slash never doubles the adapter's path", async () => {
    const parsed = parseConfig({ providers: { a: { type: "anthropic", baseURL: "https://api.example.com/v1//", apiKey: { env: "K" } } } });
    expect(parsed.ok && parsed.config.providers.a?.baseURL).toBe("https://api.example.com/v1");
    const ws = await newWorkspace((scenario) => ({
      providers: { az: { type: "azure", baseURL: `${simulatorOrigin()}/s/${scenario}/azure/`, apiKey: { env: "AZURE_API_KEY" }, apiStyle: "v1" } },
    }));
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "az/gpt-4o", messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(200);
    expect((await upstreamRequests(ws.scenario)).map((r) => r.path)).toEqual(["/openai/v1/chat/completions"]);
  });
});
