import { Hono } from "hono";
import * as z from "zod";
import { badRequest, notFound } from "../../lib/errors";
import { getWorkspace } from "../../policy/workspaces";
import type { AppEnv } from "../../types";
import { GROUP_BY, queryUsage } from "../../usage/query";

const DAY_MS = 86_400_000;
/** Without `from`, the report covers this many days before `to`. */
export const DEFAULT_USAGE_WINDOW_DAYS = 30;

/** An instant: an ISO date-time, or a date (a day's start for `from`, the next day's start for `to`). */
const instant = (end: boolean) =>
  z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((text) => (text.length === 10 ? Date.parse(`${text}T00:00:00Z`) + (end ? DAY_MS : 0) : Date.parse(text)));

export const UsageQuerySchema = z
  .object({
    from: instant(false).optional(),
    to: instant(true).optional(),
    groupBy: z.enum(GROUP_BY).optional(),
    keyId: z.string().min(1).max(200).optional(),
  })
  .transform((q, ctx) => {
    const toMs = q.to ?? Date.now();
    const fromMs = q.from ?? toMs - DEFAULT_USAGE_WINDOW_DAYS * DAY_MS;
    if (fromMs >= toMs) ctx.addIssue({ code: "custom", path: ["from"], message: "must be before `to`" });
    return { fromMs, toMs, groupBy: q.groupBy, keyId: q.keyId };
  });

/** GET /admin/workspaces/:id/usage — totals and groups of the workspace's usage events (D1). */
export const usageAdminApi = new Hono<AppEnv>().get("/:id/usage", async (c) => {
  const id = c.req.param("id");
  if (!(await getWorkspace(c.env, id))) throw notFound(`Workspace "${id}" does not exist.`, "workspace_not_found");
  const parsed = UsageQuerySchema.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = String(issue.path[0] ?? "query");
    throw badRequest(`Invalid query parameter '${param}': ${issue.message}.`, param, "invalid_query");
  }
  return c.json(await queryUsage(c.env.USAGE_DB, { workspaceId: id, ...parsed.data }));
});
