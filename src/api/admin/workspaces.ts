import { Hono } from "hono";
import * as z from "zod";
import { deleteWorkspaceCredentials } from "../../config/credential-store";
import { DEFAULT_WORKSPACE, loadWorkspaceConfig, saveWorkspaceConfig } from "../../config/store";
import { parseConfig } from "../../config/validate";
import { GatewayError, badRequest, notFound } from "../../lib/errors";
import { listKeys, revokeKey } from "../../policy/keys";
import { WORKSPACE_SCOPE, workspaceLimiterName } from "../../policy/limits";
import { deleteWorkspace, getWorkspace, listWorkspaces, putWorkspace, type Workspace } from "../../policy/workspaces";
import { StoredResponses } from "../../responses/store";
import type { AppEnv } from "../../types";
import { readJsonBody } from "../body";
import { CreateWorkspaceSchema } from "./schemas";

export async function requireWorkspace(env: Env, id: string): Promise<Workspace> {
  const workspace = await getWorkspace(env, id);
  if (!workspace) throw notFound(`Workspace "${id}" does not exist.`, "workspace_not_found");
  return workspace;
}

/** /admin/workspaces and /admin/workspaces/:id/config: workspaces and their config documents. */
export const workspacesAdminApi = new Hono<AppEnv>()
  .get("/workspaces", async (c) => c.json({ data: await listWorkspaces(c.env) }))
  .post("/workspaces", async (c) => {
    const body = await readJsonBody(c, CreateWorkspaceSchema);
    if (await getWorkspace(c.env, body.id)) throw new GatewayError({ status: 409, type: "invalid_request_error", code: "workspace_exists", param: "id", message: `Workspace "${body.id}" already exists.` });
    const workspace = { id: body.id, name: body.name, createdAt: new Date().toISOString() };
    await putWorkspace(c.env, workspace);
    return c.json(workspace, 201);
  })
  .get("/workspaces/:id", async (c) => c.json(await requireWorkspace(c.env, c.req.param("id"))))
  .delete("/workspaces/:id", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    if (id === DEFAULT_WORKSPACE) throw badRequest("The default workspace cannot be deleted.", "id", "workspace_protected");
    for (const key of await listKeys(c.env, id)) await revokeKey(c.env, id, key.id);
    await deleteWorkspaceCredentials(c.env, id);
    await deleteWorkspace(c.env, id);
    c.executionCtx.waitUntil(c.env.KEY_LIMITER.getByName(workspaceLimiterName(id)).forget());
    c.executionCtx.waitUntil(new StoredResponses(c.env, id).forgetAll());
    return c.json({ id, deleted: true as const });
  })
  .get("/workspaces/:id/limits", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    return c.json(await c.env.KEY_LIMITER.getByName(workspaceLimiterName(id)).snapshot(WORKSPACE_SCOPE));
  })
  .get("/workspaces/:id/config", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    const config = await loadWorkspaceConfig(c.env, id);
    if (!config) throw notFound(`Workspace "${id}" has no configuration yet.`, "config_not_found");
    return c.json(config);
  })
  .put("/workspaces/:id/config", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    const raw = await readJsonBody(c, z.unknown());
    const parsed = parseConfig(raw);
    if (!parsed.ok) {
      const first = parsed.issues[0]!;
      throw badRequest(`Invalid configuration: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, first.path, "invalid_config");
    }
    await saveWorkspaceConfig(c.env, id, parsed.config);
    return c.json(parsed.config);
  });
