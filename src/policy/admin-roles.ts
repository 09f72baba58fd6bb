/**
 * The roles an admin token can have, as plain data (no zod) so the dashboard's script can share the list:
 * `owner` (everything), `workspace_admin` (keys, config, credentials and usage of its workspaces), `viewer`
 * (read-only). What each may do is decided in ./admin-access.ts.
 */
export const ADMIN_ROLES = ["owner", "workspace_admin", "viewer"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];
