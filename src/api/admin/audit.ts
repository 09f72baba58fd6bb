import { Hono } from "hono";
import * as z from "zod";
import { AuditActionSchema, AuditTargetTypeSchema } from "../../audit/actions";
import { AUDIT_PAGE_MAX, decodeCursor, queryAuditLog } from "../../audit/store";
import { badRequest } from "../../lib/errors";
import { authorize } from "../../policy/admin-access";
import type { AppEnv } from "../../types";

const DAY_MS = 86_400_000;
const DEFAULT_PAGE = 50;

/** An instant: an ISO date-time, or a date (a day's start for `from`, the next day's start for `to`). */
const instant = (end: boolean) =>
  z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((text) => (text.length === 10 ? Date.parse(`${text}T00:00:00Z`) + (end ? DAY_MS : 0) : Date.parse(text)));

export const AuditQuerySchema = z.strictObject({
  workspace: z.string().min(1).max(200).optional(),
  actor: z.string().min(1).max(200).optional(),
  action: AuditActionSchema.optional(),
  targetType: AuditTargetTypeSchema.optional(),
  from: instant(false).optional(),
  to: instant(true).optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(DEFAULT_PAGE),
  cursor: z.string().min(1).max(400).optional(),
});

/**
 * GET /admin/audit — the audit log, newest first, filtered and paged. Scoped tokens see only their workspaces'
 * entries (a `workspace` filter outside them is a 403); gateway-wide entries (admin tokens, master-key rotation)
 * only owners and unscoped viewers see.
 */
export const auditAdminApi = new Hono<AppEnv>().get("/audit", async (c) => {
  const parsed = AuditQuerySchema.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.code === "unrecognized_keys" ? issue.keys[0]! : String(issue.path[0] ?? "query");
    throw badRequest(`Invalid query parameter '${param}': ${issue.message}.`, param, "invalid_query");
  }
  const query = parsed.data;
  const identity = c.get("admin");
  if (query.workspace !== undefined) authorize(identity, "read", query.workspace, "read this workspace's audit log");
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (after === null) throw badRequest("Invalid query parameter 'cursor': pass the `next` value of a previous page.", "cursor", "invalid_query");
  return c.json(
    await queryAuditLog(c.env.USAGE_DB, {
      scope: identity.workspaces,
      workspace: query.workspace,
      actor: query.actor,
      action: query.action,
      targetType: query.targetType,
      fromMs: query.from,
      toMs: query.to,
      limit: query.limit,
      after,
    }),
  );
});
