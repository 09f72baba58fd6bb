import * as z from "zod";
import { GatewayError } from "../lib/errors";
import { ADMIN_ROLES, type AdminRole } from "./admin-roles";

/**
 * Who may do what on the admin API. Pure: an identity (who presented which token), the access an endpoint needs
 * (declared per endpoint in src/api/admin/operations.ts) and the workspace it touches decide, nothing else.
 *
 * A new kind of token is one more role here: e.g. `node` (a self-hosted data plane) would be granted only a
 * `node` access that its sync, lease and usage endpoints declare.
 */

export const AdminRoleSchema = z.enum(ADMIN_ROLES);

/**
 * What an endpoint needs:
 * - `any`: every role (who am I, the OpenAPI document; lists are filtered to the caller's workspaces);
 * - `read`: reading one workspace's resources (its config, keys, credentials' names, limits, usage);
 * - `write`: changing them (config, keys, credentials) or calling /v1 as that workspace;
 * - `owner`: the whole gateway (creating and deleting workspaces, admin tokens, master-key rotation).
 */
export const ADMIN_ACCESS = ["any", "read", "write", "owner"] as const;
export type AdminAccess = (typeof ADMIN_ACCESS)[number];

const ROLE_GRANTS: Record<AdminRole, ReadonlySet<AdminAccess>> = {
  owner: new Set(["any", "read", "write", "owner"]),
  workspace_admin: new Set(["any", "read", "write"]),
  viewer: new Set(["any", "read"]),
};

/** The caller of an admin request. `workspaces: null` means every workspace (owners; viewers without a list). */
export type AdminIdentity = { id: string; name: string; role: AdminRole; workspaces: string[] | null };

/** The ADMIN_TOKEN secret: an owner that is no stored token (it cannot be listed or revoked through the API). */
export const ADMIN_TOKEN_IDENTITY: AdminIdentity = { id: "ADMIN_TOKEN", name: "ADMIN_TOKEN", role: "owner", workspaces: null };

export const inScope = (identity: AdminIdentity, workspaceId: string): boolean => identity.workspaces === null || identity.workspaces.includes(workspaceId);

export const grants = (identity: AdminIdentity, access: AdminAccess): boolean => ROLE_GRANTS[identity.role].has(access);

const forbidden = (message: string, code: string) => new GatewayError({ status: 403, type: "permission_error", code, message });

/**
 * Throws 403 unless `identity` may use an endpoint needing `access`, on `workspaceId` when the endpoint belongs to
 * one. The workspace is checked before anything is read, so a refusal says nothing about whether it exists.
 */
export function authorize(identity: AdminIdentity, access: AdminAccess, workspaceId: string | undefined, action: string): void {
  if (!grants(identity, access)) {
    throw forbidden(`This admin token (role ${identity.role}) may not ${action}: it needs ${access === "owner" ? "an owner" : `${access} access`}.`, "role_forbidden");
  }
  if (workspaceId !== undefined && !inScope(identity, workspaceId)) {
    throw forbidden(`This admin token may not act on workspace "${workspaceId}": it is limited to ${identity.workspaces!.map((w) => `"${w}"`).join(", ")}.`, "workspace_forbidden");
  }
}
