import { describe, expect, it } from "vitest";
import { admin } from "../helpers";

type Doc = {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, { operationId: string; requestBody?: unknown; responses: Record<string, unknown>; parameters?: { name: string; in: string }[] }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

/** Every `$ref` in the document, so each can be checked to resolve. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, out);
  else if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string") out.push(inner);
      else refsIn(inner, out);
    }
  }
  return out;
}

const resolve = (doc: Doc, ref: string): unknown => ref.replace(/^#\//, "").split("/").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc);

describe("GET /admin/openapi.json", () => {
  it("is an OpenAPI 3.1 document whose references all resolve", async () => {
    const res = await admin("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBeTruthy();
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(resolve(doc, ref), ref).toBeDefined();
    const operationIds = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(operationIds).size).toBe(operationIds.length);
    for (const [path, ops] of Object.entries(doc.paths)) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) {
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        expect((op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name)).toEqual(params);
      }
    }
  });

  it("lists every admin endpoint, with the key payload generated from its zod schema", async () => {
    const doc = (await (await admin("/openapi.json")).json()) as Doc;
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(listed).toEqual(
      expect.arrayContaining([
        "GET /admin/workspaces",
        "POST /admin/workspaces",
        "GET /admin/workspaces/{id}",
        "DELETE /admin/workspaces/{id}",
        "GET /admin/workspaces/{id}/config",
        "GET /admin/workspaces/{id}/limits",
        "GET /admin/workspaces/{id}/keys/{keyId}",
        "PUT /admin/workspaces/{id}/config",
        "POST /admin/workspaces/{id}/keys",
        "GET /admin/workspaces/{id}/keys",
        "PATCH /admin/workspaces/{id}/keys/{keyId}",
        "DELETE /admin/workspaces/{id}/keys/{keyId}",
        "GET /admin/workspaces/{id}/keys/{keyId}/limits",
        "PUT /admin/workspaces/{id}/credentials/{name}",
        "GET /admin/workspaces/{id}/credentials",
        "DELETE /admin/workspaces/{id}/credentials/{name}",
        "POST /admin/credentials/rotate",
        "GET /admin/me",
        "GET /admin/tokens",
        "POST /admin/tokens",
        "GET /admin/tokens/{tokenId}",
        "DELETE /admin/tokens/{tokenId}",
        "GET /admin/audit",
        "GET /admin/openapi.json",
      ]),
    );
    const createKey = doc.components.schemas.CreateKey as { properties: Record<string, { properties?: Record<string, unknown>; enum?: unknown }>; required: string[] };
    expect(createKey.required).toEqual(["name"]);
    expect(Object.keys(createKey.properties)).toEqual(expect.arrayContaining(["name", "rateLimit", "budget", "routes", "expiresAt"]));
    expect(Object.keys(createKey.properties.rateLimit!.properties!)).toEqual(["rpm", "tpm"]);
    expect(JSON.stringify(createKey.properties.budget)).toContain('"month"');
    expect(doc.components.schemas.GatewayConfig).toHaveProperty("properties.providers");
    expect(doc.components.schemas.GatewayConfig).toHaveProperty("properties.limits");
  });

  it("says which roles may call each endpoint, and documents admin tokens and the audit log from their schemas", async () => {
    const doc = (await (await admin("/openapi.json")).json()) as Doc;
    const access = (method: string, path: string) => (doc.paths[path]![method] as unknown as Record<string, unknown>)["x-switchyard-access"];
    expect(access("get", "/admin/workspaces/{id}/usage")).toBe("read");
    expect(access("put", "/admin/workspaces/{id}/config")).toBe("write");
    expect(access("post", "/admin/tokens")).toBe("owner");
    expect(access("get", "/admin/audit")).toBe("any");
    for (const [path, ops] of Object.entries(doc.paths)) if (path !== "/admin/openapi.json") for (const op of Object.values(ops)) expect(op.responses, path).toHaveProperty("403");
    const createToken = doc.components.schemas.CreateAdminToken as { properties: Record<string, { enum?: string[] }>; required: string[] };
    expect(createToken.required).toEqual(expect.arrayContaining(["name", "role"]));
    expect(createToken.properties.role!.enum).toEqual(["owner", "workspace_admin", "viewer", "node"]);
    expect(Object.keys(createToken.properties)).toEqual(expect.arrayContaining(["workspaces", "expiresAt"]));
    const entry = (doc.components.schemas.AuditPage as { properties: { data: { items: { properties: Record<string, unknown> } } } }).properties.data.items.properties;
    expect(Object.keys(entry)).toEqual(expect.arrayContaining(["actor", "action", "target", "time", "beforeHash", "afterHash", "changedFields"]));
    const auditParams = (doc.paths["/admin/audit"]!.get!.parameters ?? []).map((p) => p.name);
    expect(auditParams).toEqual(["workspace", "actor", "action", "targetType", "from", "to", "limit", "cursor"]);
  });

  it("describes only endpoints that exist: each listed operation is routed (none answers unknown_url)", async () => {
    const doc = (await (await admin("/openapi.json")).json()) as Doc;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (method === "delete" || path.endsWith("/rotate")) continue;
        const concrete = path.replace("/admin", "").replace(/\{(\w+)\}/g, "missing-$1");
        const res = await admin(concrete, { method: method.toUpperCase(), ...(method === "get" ? {} : { body: "{}" }) });
        const body = (await res.json()) as { error?: { code: string } };
        expect(body.error?.code, `${method} ${path}`).not.toBe("unknown_url");
      }
    }
  });
});
