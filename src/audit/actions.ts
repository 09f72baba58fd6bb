import * as z from "zod";
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES } from "./action-names";

/** Every kind of admin write the audit log records (`<target type>.<verb>`), and the kinds of target. */
export const AuditActionSchema = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditActionSchema>;

export const AuditTargetTypeSchema = z.enum(AUDIT_TARGET_TYPES);
export type AuditTargetType = z.infer<typeof AuditTargetTypeSchema>;

export { AUDIT_ACTIONS, AUDIT_TARGET_TYPES };
