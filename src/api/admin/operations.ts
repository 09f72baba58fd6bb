import type { AuditAction } from "../../audit/actions";
import type { AdminAccess } from "../../policy/admin-access";

/**
 * The admin API, one row per endpoint (paths relative to /admin): what the OpenAPI document describes
 * (./openapi.ts), which access each needs (./access.ts enforces it before the handler runs; an endpoint missing
 * here is refused to every role but owner), and which audit actions its successful calls record.
 */

export type ComponentName =
  | "Workspace"
  | "WorkspaceList"
  | "CreateWorkspace"
  | "GatewayConfig"
  | "CreateKey"
  | "UpdateKey"
  | "Key"
  | "KeyList"
  | "CreatedKey"
  | "LimiterSnapshot"
  | "PutCredential"
  | "Credential"
  | "CredentialList"
  | "RotationReport"
  | "UsageReport"
  | "Identity"
  | "CreateAdminToken"
  | "AdminToken"
  | "AdminTokenList"
  | "CreatedAdminToken"
  | "AuditPage"
  | "Deleted"
  | "Error";

export type AdminOperation = {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  summary: string;
  access: AdminAccess;
  body?: ComponentName;
  response: ComponentName;
  status?: number;
  /** Query parameters, documented as strings. */
  query?: readonly string[];
  /** The audit actions a successful call records (one of them per call). */
  audit?: readonly AuditAction[];
};

export const ADMIN_OPERATIONS: readonly AdminOperation[] = [
  { method: "get", path: "/me", summary: "The calling token: id, name, role and workspaces", access: "any", response: "Identity" },
  { method: "get", path: "/workspaces", summary: "List workspaces (those the token may see)", access: "any", response: "WorkspaceList" },
  { method: "post", path: "/workspaces", summary: "Create a workspace", access: "owner", body: "CreateWorkspace", response: "Workspace", status: 201, audit: ["workspace.create"] },
  { method: "get", path: "/workspaces/{id}", summary: "Get a workspace", access: "read", response: "Workspace" },
  { method: "delete", path: "/workspaces/{id}", summary: "Delete a workspace, its keys and credentials", access: "owner", response: "Deleted", audit: ["workspace.delete"] },
  { method: "get", path: "/workspaces/{id}/limits", summary: "The workspace limiter's state (config `limits`): requests and tokens in the window, reservations, spend per period", access: "read", response: "LimiterSnapshot" },
  { method: "get", path: "/workspaces/{id}/config", summary: "Get a workspace's config document", access: "read", response: "GatewayConfig" },
  { method: "put", path: "/workspaces/{id}/config", summary: "Replace a workspace's config document", access: "write", body: "GatewayConfig", response: "GatewayConfig", audit: ["config.update"] },
  { method: "post", path: "/workspaces/{id}/keys", summary: "Create a gateway key (the key is shown once)", access: "write", body: "CreateKey", response: "CreatedKey", status: 201, audit: ["key.create"] },
  { method: "get", path: "/workspaces/{id}/keys", summary: "List keys (never their secrets)", access: "read", response: "KeyList" },
  { method: "get", path: "/workspaces/{id}/keys/{keyId}", summary: "Get a key", access: "read", response: "Key" },
  { method: "patch", path: "/workspaces/{id}/keys/{keyId}", summary: "Change a key's name, limits, budget, routes or expiry", access: "write", body: "UpdateKey", response: "Key", audit: ["key.update"] },
  { method: "delete", path: "/workspaces/{id}/keys/{keyId}", summary: "Revoke a key", access: "write", response: "Deleted", audit: ["key.revoke"] },
  { method: "get", path: "/workspaces/{id}/keys/{keyId}/limits", summary: "A key's limiter state: requests and tokens in the window, reservations, spend per period", access: "read", response: "LimiterSnapshot" },
  { method: "get", path: "/workspaces/{id}/credentials", summary: "List stored credentials (names and metadata only)", access: "read", response: "CredentialList" },
  { method: "put", path: "/workspaces/{id}/credentials/{name}", summary: "Store or replace a provider credential (encrypted)", access: "write", body: "PutCredential", response: "Credential", audit: ["credential.create", "credential.update"] },
  { method: "delete", path: "/workspaces/{id}/credentials/{name}", summary: "Delete a stored credential", access: "write", response: "Deleted", audit: ["credential.delete"] },
  { method: "get", path: "/workspaces/{id}/usage", summary: "Usage and cost: totals and groups (groupBy=key|route|provider|model|day|batch)", access: "read", response: "UsageReport", query: ["from", "to", "groupBy", "keyId"] },
  { method: "post", path: "/credentials/rotate", summary: "Re-encrypt every stored credential under the current master key", access: "owner", response: "RotationReport", audit: ["credentials.rotate"] },
  { method: "get", path: "/tokens", summary: "List admin tokens (never their secrets)", access: "owner", response: "AdminTokenList" },
  { method: "post", path: "/tokens", summary: "Create an admin token with a role (the token is shown once)", access: "owner", body: "CreateAdminToken", response: "CreatedAdminToken", status: 201, audit: ["admin_token.create"] },
  { method: "get", path: "/tokens/{tokenId}", summary: "Get an admin token", access: "owner", response: "AdminToken" },
  { method: "delete", path: "/tokens/{tokenId}", summary: "Revoke an admin token", access: "owner", response: "Deleted", audit: ["admin_token.revoke"] },
  {
    method: "get",
    path: "/audit",
    summary: "The audit log of admin writes, newest first (scoped tokens see their workspaces' entries)",
    access: "any",
    response: "AuditPage",
    query: ["workspace", "actor", "action", "targetType", "from", "to", "limit", "cursor"],
  },
  // Described by hand in the document itself (its answer is the document).
  { method: "get", path: "/openapi.json", summary: "This document", access: "any", response: "Error" },
];

type CompiledOperation = { operation: AdminOperation; pattern: RegExp; params: string[] };

const COMPILED: CompiledOperation[] = ADMIN_OPERATIONS.map((operation) => {
  const params = [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const source = operation.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{\w+\}/g, "([^/]+)");
  return { operation, pattern: new RegExp(`^${source}$`), params };
});

const decodeSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/**
 * The operation a request is for, and the workspace it acts on (`{id}` of /workspaces/{id}/…), decoded the way
 * the router decodes its parameters. `path` is relative to /admin; HEAD counts as GET.
 */
export function matchOperation(method: string, path: string): { operation: AdminOperation; workspaceId: string | undefined } | null {
  const verb = method === "HEAD" ? "get" : method.toLowerCase();
  for (const { operation, pattern, params } of COMPILED) {
    if (operation.method !== verb) continue;
    const match = pattern.exec(path);
    if (!match) continue;
    const values = Object.fromEntries(params.map((name, i) => [name, decodeSegment(match[i + 1]!)]));
    return { operation, workspaceId: operation.path.startsWith("/workspaces/{id}") ? values.id : undefined };
  }
  return null;
}
