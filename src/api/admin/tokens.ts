import { Hono } from "hono";
import { recordAdminChange } from "../../audit/record";
import { badRequest, notFound } from "../../lib/errors";
import { createAdminToken, getAdminToken, listAdminTokens, publicAdminToken, revokeAdminToken } from "../../policy/admin-tokens";
import { getWorkspace } from "../../policy/workspaces";
import type { AppEnv } from "../../types";
import { readJsonBody } from "../body";
import { CreateAdminTokenSchema } from "./schemas";

const tokenNotFound = (id: string) => notFound(`Admin token "${id}" does not exist.`, "admin_token_not_found");

/** /admin/me and /admin/tokens: who is calling, and the admin tokens owners hand out (roles: src/policy/admin-access.ts). */
export const tokensAdminApi = new Hono<AppEnv>()
  .get("/me", (c) => c.json(c.get("admin")))
  .post("/tokens", async (c) => {
    const policy = await readJsonBody(c, CreateAdminTokenSchema);
    for (const [i, workspaceId] of (policy.workspaces ?? []).entries()) {
      if (!(await getWorkspace(c.env, workspaceId))) throw badRequest(`Invalid value for 'workspaces[${i}]': workspace "${workspaceId}" does not exist.`, `workspaces[${i}]`, "workspace_not_found");
    }
    const { record, token } = await createAdminToken(c.env, policy, c.get("admin").id);
    const view = publicAdminToken(record);
    await recordAdminChange(c, { action: "admin_token.create", target: { type: "admin_token", id: record.id, workspaceId: null }, after: view });
    return c.json({ ...view, token }, 201);
  })
  .get("/tokens", async (c) => c.json({ data: (await listAdminTokens(c.env)).map(publicAdminToken) }))
  .get("/tokens/:tokenId", async (c) => {
    const record = await getAdminToken(c.env, c.req.param("tokenId"));
    if (!record) throw tokenNotFound(c.req.param("tokenId"));
    return c.json(publicAdminToken(record));
  })
  .delete("/tokens/:tokenId", async (c) => {
    const id = c.req.param("tokenId");
    const record = await revokeAdminToken(c.env, id);
    if (!record) throw tokenNotFound(id);
    await recordAdminChange(c, { action: "admin_token.revoke", target: { type: "admin_token", id, workspaceId: null }, before: publicAdminToken(record) });
    return c.json({ id, deleted: true as const });
  });
