import { Hono } from "hono";
import * as z from "zod";
import { loadWorkspaceConfig } from "../../config/store";
import type { AppEnv } from "../../types";
import { queryUsage } from "../../usage/query";
import { GroupBySchema, StatusFilterSchema } from "../../usage/report";
import { retentionSettingsOf } from "../../usage/settings";
import { instant, metadataFiltersOf, parseQuery } from "./query-params";
import { requireWorkspace } from "./workspaces";

const DAY_MS = 86_400_000;
/** Without `from`, the report covers this many days before `to`. */
export const DEFAULT_USAGE_WINDOW_DAYS = 30;

const name = z.string().min(1).max(200);

export const UsageQuerySchema = z
  .object({
    from: instant(false).optional(),
    to: instant(true).optional(),
    groupBy: GroupBySchema.optional(),
    keyId: name.optional(),
    route: name.optional(),
    provider: name.optional(),
    model: name.optional(),
    status: StatusFilterSchema.optional(),
    user: z.string().min(1).max(256).optional(),
  })
  .transform((q, ctx) => {
    // One clock reading for the defaults and the raw-retention check, so the default window (30 days) is not
    // a millisecond older than a 30-day raw retention when the query needs raw events.
    const nowMs = Date.now();
    const toMs = q.to ?? nowMs;
    const fromMs = q.from ?? toMs - DEFAULT_USAGE_WINDOW_DAYS * DAY_MS;
    if (fromMs >= toMs) ctx.addIssue({ code: "custom", path: ["from"], message: "must be before `to`" });
    return { nowMs, fromMs, toMs, groupBy: q.groupBy, filters: { keyId: q.keyId, route: q.route, provider: q.provider, model: q.model, status: q.status, user: q.user } };
  });

/**
 * GET /admin/workspaces/:id/usage — totals and groups of the workspace's usage: from the rollups, or from raw
 * events for metadata keys the workspace does not keep in its rollups (src/usage/query.ts).
 */
export const usageAdminApi = new Hono<AppEnv>().get("/:id/usage", async (c) => {
  const id = c.req.param("id");
  await requireWorkspace(c.env, id);
  const query = parseQuery(c, UsageQuerySchema);
  const metadata = metadataFiltersOf(c);
  const retention = retentionSettingsOf(c.env);
  const declaredKeys = (await loadWorkspaceConfig(c.env, id))?.usage?.metadataKeys ?? [];
  const report = await queryUsage(
    c.env.USAGE_DB,
    { workspaceId: id, fromMs: query.fromMs, toMs: query.toMs, groupBy: query.groupBy, filters: { ...query.filters, metadata } },
    { declaredKeys, rawRetentionDays: retention.rawDays, hourlyRetentionDays: retention.hourlyDays, now: query.nowMs },
  );
  return c.json(report);
});
