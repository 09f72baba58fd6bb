import { Hono } from "hono";
import * as z from "zod";
import { GatewayConfigSchema } from "../../config/schema";
import type { AppEnv } from "../../types";
import { UsageReportSchema } from "../../usage/query";
import { ADMIN_OPERATIONS, type ComponentName } from "./operations";
import {
  AuditPageSchema,
  CreateAdminTokenSchema,
  CreateKeySchema,
  CreateWorkspaceSchema,
  CreatedAdminTokenSchema,
  CreatedKeySchema,
  CredentialInfoSchema,
  DeletedSchema,
  ErrorSchema,
  IdentitySchema,
  LimiterSnapshotSchema,
  PublicAdminTokenSchema,
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
  Identity: IdentitySchema,
  CreateAdminToken: CreateAdminTokenSchema,
  AdminToken: PublicAdminTokenSchema,
  AdminTokenList: listOf(PublicAdminTokenSchema),
  CreatedAdminToken: CreatedAdminTokenSchema,
  AuditPage: AuditPageSchema,
  Deleted: DeletedSchema,
  Error: ErrorSchema,
} satisfies Record<ComponentName, z.ZodType>;

/** Request bodies are described as clients send them (defaults optional), answers as the gateway writes them. */
const REQUEST_COMPONENTS = new Set<ComponentName>(["CreateWorkspace", "CreateKey", "UpdateKey", "PutCredential", "CreateAdminToken"]);

/** How each access level reads in the document (`x-switchyard-access` carries the level itself). */
const ACCESS_NOTE = {
  any: "Any admin token.",
  read: "Owners, and workspace admins and viewers of this workspace.",
  write: "Owners, and workspace admins of this workspace.",
  owner: "Owners only (ADMIN_TOKEN or an owner token).",
} as const;

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
    if (op.path === "/openapi.json") continue;
    const parameters = [
      ...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } })),
      ...(op.query ?? []).map((name) => ({ name, in: "query", required: false, schema: { type: "string" } })),
    ];
    (paths[`/admin${op.path}`] ??= {})[op.method] = {
      summary: op.summary,
      description: `${ACCESS_NOTE[op.access]}${op.audit ? ` Recorded in the audit log as ${op.audit.map((a) => `\`${a}\``).join(" or ")}.` : ""}`,
      operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By-$1").replace(/[^A-Za-z0-9]+(\w)/g, (_m, ch: string) => ch.toUpperCase())}`,
      "x-switchyard-access": op.access,
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body) } } } } : {}),
      responses: {
        [String(op.status ?? 200)]: { description: "Success", content: { "application/json": { schema: ref(op.response) } } },
        "400": errorResponse("Invalid payload or query: `error.param` names the field"),
        "401": errorResponse("Missing or wrong admin token"),
        "403": errorResponse("The token's role or workspaces do not allow this (`role_forbidden`, `workspace_forbidden`)"),
        "404": errorResponse("Workspace, key, credential or token not found"),
        "429": errorResponse("Too many failed authentications from this address (`Retry-After`)"),
      },
    };
  }
  paths["/admin/openapi.json"] = { get: { summary: "This document", operationId: "getOpenapiJson", "x-switchyard-access": "any", responses: { "200": { description: "OpenAPI 3.1 document", content: { "application/json": { schema: { type: "object" } } } } } } };
  return {
    openapi: "3.1.0",
    info: { title: "Switchyard admin API", version: "1", description: "Workspaces, config documents, gateway keys with limits and budgets, stored provider credentials, admin tokens with roles, the audit log." },
    servers: [{ url: "/" }],
    security: [{ adminToken: [] }],
    paths,
    components: {
      securitySchemes: { adminToken: { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN secret (an owner), or an admin token made with POST /admin/tokens (its role decides)." } },
      schemas: Object.fromEntries(Object.keys(COMPONENTS).map((name) => [name, jsonSchemaOf(name as ComponentName)])),
    },
  };
}

let cached: Record<string, unknown> | undefined;

export const openAPIAdminApi = new Hono<AppEnv>().get("/openapi.json", (c) => c.json((cached ??= adminOpenAPIDocument())));
