/**
 * The audit log's closed sets as plain data (no zod), shared by the Worker (./actions.ts wraps them in schemas)
 * and the dashboard's script, which must not bundle zod's full build.
 */
export const AUDIT_ACTIONS = [
  "workspace.create",
  "workspace.delete",
  "config.update",
  "key.create",
  "key.update",
  "key.revoke",
  "credential.create",
  "credential.update",
  "credential.delete",
  "credentials.rotate",
  "admin_token.create",
  "admin_token.revoke",
] as const;

export const AUDIT_TARGET_TYPES = ["workspace", "config", "key", "credential", "master_key", "admin_token"] as const;
