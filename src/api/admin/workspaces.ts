import { Hono } from "hono";
import { z } from "zod";
import { loadWorkspaceConfig, saveWorkspaceConfig } from "../../config/store";
import { parseConfig } from "../../config/validate";
import { GatewayError, badRequest, notFound } from "../../lib/errors";
import { createKey, listKeys, publicKey, revokeKey } from "../../policy/keys";
import { deleteWorkspace, getWorkspace, listWorkspaces, putWorkspace } from "../../policy/workspaces";
import type { AppEnv } from "../../types";
import { readJsonBody } from "../body";

export const WorkspaceIdSchema = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "workspace ids are lowercase letters, digits and '-' (a DNS label)");
export const CreateWorkspaceSchema = z.strictObject({ id: WorkspaceIdSchema, name: z.string().min(1).max(200) });
export const CreateKeySchema = z.strictObject({ name: z.string().min(1).max(200) });

async function requireWorkspace(env: Env, id: string) {
  const workspace = await getWorkspace(env, id);
  if (!workspace) throw notFound(`Workspace "${id}" does not exist.`, "workspace_not_found");
  return workspace;
}

/** /admin/workspaces: workspaces, their config documents and their gateway keys. */
export const workspacesAdminApi = new Hono<AppEnv>()
  .get("/", async (c) => c.json({ data: await listWorkspaces(c.env) }))
  .post("/", async (c) => {
    const body = await readJsonBody(c, CreateWorkspaceSchema);
    if (await getWorkspace(c.env, body.id)) throw new GatewayError({ status: 409, type: "invalid_request_error", code: "workspace_exists", param: "id", message: `Workspace "${body.id}" already exists.` });
    const workspace = { id: body.id, name: body.name, createdAt: new Date().toISOString() };
    await putWorkspace(c.env, workspace);
    return c.json(workspace, 201);
  })
  .get("/:id", async (c) => c.json(await requireWorkspace(c.env, c.req.param("id"))))
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    if (id === "default") throw badRequest("The default workspace cannot be deleted.", "id", "workspace_protected");
    for (const key of await listKeys(c.env, id)) await revokeKey(c.env, id, key.id);
    await deleteWorkspace(c.env, id);
    return c.json({ id, deleted: true });
  })
  .get("/:id/config", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    const config = await loadWorkspaceConfig(c.env, id);
    if (!config) throw notFound(`Workspace "${id}" has no configuration yet.`, "config_not_found");
    return c.json(config);
  })
  .put("/:id/config", async (c) => {
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
  })
  .post("/:id/keys", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    const body = await readJsonBody(c, CreateKeySchema);
    const { record, key } = await createKey(c.env, id, body.name);
    return c.json({ id: record.id, key, name: record.name, createdAt: record.createdAt }, 201);
  })
  .get("/:id/keys", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    return c.json({ data: (await listKeys(c.env, id)).map(publicKey) });
  })
  .delete("/:id/keys/:keyId", async (c) => {
    const { id, keyId } = c.req.param();
    if (!(await revokeKey(c.env, id, keyId))) throw notFound(`Key "${keyId}" does not exist in workspace "${id}".`, "key_not_found");
    return c.json({ id: keyId, deleted: true });
  });
