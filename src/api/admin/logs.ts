import { Hono } from "hono";
import * as z from "zod";
import { badRequest, notFound } from "../../lib/errors";
import type { AppEnv } from "../../types";
import { CACHE_STATUSES, MAX_LOG_PAGE, OUTCOMES, decodeCursor, getLog, listLogs } from "../../usage/logs";
import { StatusFilterSchema } from "../../usage/report";
import { instant, metadataFiltersOf, parseQuery } from "./query-params";
import { requireWorkspace } from "./workspaces";

const name = z.string().min(1).max(200);

export const LogsQuerySchema = z.object({
  from: instant(false).optional(),
  to: instant(true).optional(),
  keyId: name.optional(),
  route: name.optional(),
  provider: name.optional(),
  model: name.optional(),
  status: StatusFilterSchema.optional(),
  outcome: z.enum(OUTCOMES).optional(),
  cacheStatus: z.enum(CACHE_STATUSES).optional(),
  user: z.string().min(1).max(256).optional(),
  minLatencyMs: z.coerce.number().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LOG_PAGE).default(50),
  cursor: z.string().max(200).optional(),
});

/**
 * GET /admin/workspaces/:id/logs — the workspace's requests, newest first, filtered, `limit` per page with a
 * `cursor` to the next; GET /admin/workspaces/:id/logs/:requestId — one request with its attempts, timings and
 * (with body logging on) bodies. Both read the raw events, kept for USAGE_RETENTION_DAYS.
 */
export const logsAdminApi = new Hono<AppEnv>()
  .get("/:id/logs", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    const { from, to, limit, cursor: rawCursor, ...filters } = parseQuery(c, LogsQuerySchema);
    const cursor = rawCursor === undefined ? null : decodeCursor(rawCursor);
    if (rawCursor !== undefined && cursor === null) throw badRequest("Invalid query parameter 'cursor': pass the nextCursor of a previous page.", "cursor", "invalid_query");
    return c.json(await listLogs(c.env.USAGE_DB, id, { ...filters, fromMs: from, toMs: to, metadata: metadataFiltersOf(c) }, { limit, cursor }));
  })
  .get("/:id/logs/:requestId", async (c) => {
    const { id, requestId } = c.req.param();
    await requireWorkspace(c.env, id);
    const log = await getLog(c.env.USAGE_DB, id, requestId);
    if (!log) throw notFound(`No request "${requestId}" in workspace "${id}" (request logs are kept for the raw-event retention).`, "request_not_found");
    return c.json(log);
  });
