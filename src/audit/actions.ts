import * as z from "zod";

/** Every kind of admin write the audit log records: `<target type>.<verb>`. */
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
export const AuditActionSchema = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditActionSchema>;

export const AUDIT_TARGET_TYPES = ["workspace", "config", "key", "credential", "master_key", "admin_token"] as const;
export const AuditTargetTypeSchema = z.enum(AUDIT_TARGET_TYPES);
export type AuditTargetType = z.infer<typeof AuditTargetTypeSchema>;
