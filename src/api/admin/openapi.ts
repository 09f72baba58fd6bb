import { Hono } from "hono";
import * as z from "zod";
import { GatewayConfigSchema } from "../../config/schema";
import type { AppEnv } from "../../types";
import { UsageReportSchema } from "../../usage/query";
import {
  CreateKeySchema,
  CreateWorkspaceSchema,
  CreatedKeySchema,
  CredentialInfoSchema,
  DeletedSchema,
  ErrorSchema,
  LimiterSnapshotSchema,
  PublicKeySchema,
  PutCredentialSchema,
  RotationReportSchema,
  UpdateKeySchema,
  WorkspaceSchema,
  listOf,
} from "./schemas";

/** Named schemas, referenced from the operations as `#/components/schemas/<name>`. */
const COMPONENTS = {
  Workspace: WorkspaceSchema,
  WorkspaceList: listOf(WorkspaceSchema),
  CreateWorkspace: CreateWorkspaceSchema,
  GatewayConfig: GatewayConfigSchema,
  CreateKey: CreateKeySchema,
  UpdateKey: UpdateKeySchema,
  Key: PublicKeySchema,
  KeyList: listOf(PublicKeySchema),
  CreatedKey: CreatedKeySchema,
  LimiterSnapshot: LimiterSnapshotSchema,
  PutCredential: PutCredentialSchema,
  Credential: CredentialInfoSchema,
  CredentialList: listOf(CredentialInfoSchema),
  RotationReport: RotationReportSchema,
  UsageReport: UsageReportSchema,
  Deleted: DeletedSchema,
  Error: ErrorSchema,
} satisfies Record<string, z.ZodType>;
type ComponentName = keyof typeof COMPONENTS;

/** Request bodies are described as clients send them (defaults optional), answers as the gateway writes them. */
const REQUEST_COMPONENTS = new Set<ComponentName>(["CreateWorkspace", "CreateKey", "UpdateKey", "PutCredential"]);

type Operation = { method: "get" | "post" | "put" | "patch" | "delete"; path: string; summary: string; body?: ComponentName; response: ComponentName; status?: number };

/** The admin API, one row per endpoint; paths are relative to /admin. */
export const ADMIN_OPERATIONS: readonly Operation[] = [
  { method: "get", path: "/workspaces", summary: "List workspaces", response: "WorkspaceList" },
  { method: "post", path: "/workspaces", summary: "Create a workspace", body: "CreateWorkspace", response: "Workspace", status: 201 },
  { method: "get", path: "/workspaces/{id}", summary: "Get a workspace", response: "Workspace" },
  { method: "delete", path: "/workspaces/{id}", summary: "Delete a workspace, its keys and credentials", response: "Deleted" },
  { method: "get", path: "/workspaces/{id}/limits", summary: "The workspace limiter's state (config `limits`): requests and tokens in the window, reservations, spend per period", response: "LimiterSnapshot" },
  { method: "get", path: "/workspaces/{id}/config", summary: "Get a workspace's config document", response: "GatewayConfig" },
  { method: "put", path: "/workspaces/{id}/config", summary: "Replace a workspace's config document", body: "GatewayConfig", response: "GatewayConfig" },
  { method: "post", path: "/workspaces/{id}/keys", summary: "Create a gateway key (the key is shown once)", body: "CreateKey", response: "CreatedKey", status: 201 },
  { method: "get", path: "/workspaces/{id}/keys", summary: "List keys (never their secrets)", response: "KeyList" },
  { method: "get", path: "/workspaces/{id}/keys/{keyId}", summary: "Get a key", response: "Key" },
  { method: "patch", path: "/workspaces/{id}/keys/{keyId}", summary: "Change a key's name, limits, budget, routes or expiry", body: "UpdateKey", response: "Key" },
  { method: "delete", path: "/workspaces/{id}/keys/{keyId}", summary: "Revoke a key", response: "Deleted" },
  { method: "get", path: "/workspaces/{id}/keys/{keyId}/limits", summary: "A key's limiter state: requests and tokens in the window, reservations, spend per period", response: "LimiterSnapshot" },
  { method: "get", path: "/workspaces/{id}/credentials", summary: "List stored credentials (names and metadata only)", response: "CredentialList" },
  { method: "put", path: "/workspaces/{id}/credentials/{name}", summary: "Store or replace a provider credential (encrypted)", body: "PutCredential", response: "Credential" },
  { method: "delete", path: "/workspaces/{id}/credentials/{name}", summary: "Delete a stored credential", response: "Deleted" },
  { method: "get", path: "/workspaces/{id}/usage", summary: "Usage and cost: totals and groups (query: from, to, groupBy=key|route|provider|model|day|batch, keyId)", response: "UsageReport" },
  { method: "post", path: "/credentials/rotate", summary: "Re-encrypt every stored credential under the current master key", response: "RotationReport" },
];

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ref("Error") } } });

function jsonSchemaOf(name: ComponentName): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(COMPONENTS[name], { io: REQUEST_COMPONENTS.has(name) ? "input" : "output", unrepresentable: "any" });
  return schema;
}

/** The OpenAPI 3.1 document of the admin API, built from the same zod schemas the handlers validate with. */
export function adminOpenAPIDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ADMIN_OPERATIONS) {
    const parameters = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    (paths[`/admin${op.path}`] ??= {})[op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By-$1").replace(/[^A-Za-z0-9]+(\w)/g, (_m, ch: string) => ch.toUpperCase())}`,
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body) } } } } : {}),
      responses: {
        [String(op.status ?? 200)]: { description: "Success", content: { "application/json": { schema: ref(op.response) } } },
        "400": errorResponse("Invalid payload: `error.param` names the field"),
        "401": errorResponse("Missing or wrong admin token"),
        "404": errorResponse("Workspace, key or credential not found"),
      },
    };
  }
  paths["/admin/openapi.json"] = { get: { summary: "This document", operationId: "getOpenapiJson", responses: { "200": { description: "OpenAPI 3.1 document", content: { "application/json": { schema: { type: "object" } } } } } } };
  return {
    openapi: "3.1.0",
    info: { title: "Switchyard admin API", version: "1", description: "Workspaces, config documents, gateway keys with limits and budgets, stored provider credentials." },
    servers: [{ url: "/" }],
    security: [{ adminToken: [] }],
    paths,
    components: {
      securitySchemes: { adminToken: { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN secret." } },
      schemas: Object.fromEntries(Object.keys(COMPONENTS).map((name) => [name, jsonSchemaOf(name as ComponentName)])),
    },
  };
}

let cached: Record<string, unknown> | undefined;

export const openAPIAdminApi = new Hono<AppEnv>().get("/openapi.json", (c) => c.json((cached ??= adminOpenAPIDocument())));
