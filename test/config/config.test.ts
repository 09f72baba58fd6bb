import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../src/config/json-schema";
import { parseConfig } from "../../src/config/validate";
import committedSchema from "../../switchyard.schema.json";
import example from "../../switchyard.example.json";
import quickstart from "../../switchyard.config.json";
import { admin, newWorkspace } from "../helpers";

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
});
