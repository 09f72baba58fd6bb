import { Hono } from "hono";
import * as z from "zod";
import { recordAdminChange } from "../../audit/record";
import { configRuleIssues } from "../../config/config-rules";
import { deleteWorkspaceCredentials, listCredentials } from "../../config/credential-store";
import { secretRulesOf } from "../../config/secret-rules";
import { DEFAULT_WORKSPACE, configKvKey, loadWorkspaceConfig, saveWorkspaceConfig } from "../../config/store";
import { privateUpstreamsAllowed } from "../../config/upstream-addresses";
import { parseConfig } from "../../config/validate";
import { GatewayError, badRequest, notFound } from "../../lib/errors";
import { inScope } from "../../policy/admin-access";
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

/** The config document as stored (for the audit log's "before"), read past the isolate cache; the bundled one for `default`. */
async function storedConfigDocument(env: Env, id: string): Promise<unknown> {
  const stored = await env.GATEWAY_KV.get(configKvKey(id));
  if (stored !== null) return JSON.parse(stored);
  return id === DEFAULT_WORKSPACE ? await loadWorkspaceConfig(env, id).catch(() => undefined) : undefined;
}

/** /admin/workspaces and /admin/workspaces/:id/config: workspaces and their config documents. */
export const workspacesAdminApi = new Hono<AppEnv>()
  .get("/workspaces", async (c) => c.json({ data: (await listWorkspaces(c.env)).filter((w) => inScope(c.get("admin"), w.id)) }))
  .post("/workspaces", async (c) => {
    const body = await readJsonBody(c, CreateWorkspaceSchema);
    if (await getWorkspace(c.env, body.id)) throw new GatewayError({ status: 409, type: "invalid_request_error", code: "workspace_exists", param: "id", message: `Workspace "${body.id}" already exists.` });
    const workspace = { id: body.id, name: body.name, createdAt: new Date().toISOString() };
    await putWorkspace(c.env, workspace);
    await recordAdminChange(c, { action: "workspace.create", target: { type: "workspace", id: workspace.id, workspaceId: workspace.id }, after: workspace });
    return c.json(workspace, 201);
  })
  .get("/workspaces/:id", async (c) => c.json(await requireWorkspace(c.env, c.req.param("id"))))
  .delete("/workspaces/:id", async (c) => {
    const id = c.req.param("id");
    const workspace = await requireWorkspace(c.env, id);
    if (id === DEFAULT_WORKSPACE) throw badRequest("The default workspace cannot be deleted.", "id", "workspace_protected");
    for (const key of await listKeys(c.env, id)) await revokeKey(c.env, id, key.id);
    await deleteWorkspaceCredentials(c.env, id);
    await deleteWorkspace(c.env, id);
    c.executionCtx.waitUntil(c.env.KEY_LIMITER.getByName(workspaceLimiterName(id)).forget());
    c.executionCtx.waitUntil(new StoredResponses(c.env, id).forgetAll());
    await recordAdminChange(c, { action: "workspace.delete", target: { type: "workspace", id, workspaceId: id }, before: workspace });
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
    // What the document may reach: secrets the operator allows this workspace, credentials it has, addresses.
    const refused = configRuleIssues(parsed.config, {
      workspaceId: id,
      secretRules: secretRulesOf(c.env),
      privateAddresses: privateUpstreamsAllowed(c.env, id),
      credentials: new Set((await listCredentials(c.env, id)).map((credential) => credential.name)),
    });
    if (refused.length > 0) {
      const first = refused[0]!;
      throw badRequest(`Configuration refused: ${refused.map((i) => `${i.path}: ${i.message}`).join("; ")}`, first.path, first.code);
    }
    const before = await storedConfigDocument(c.env, id);
    await saveWorkspaceConfig(c.env, id, parsed.config);
    await recordAdminChange(c, { action: "config.update", target: { type: "config", id, workspaceId: id }, before, after: parsed.config });
    return c.json(parsed.config);
  });
