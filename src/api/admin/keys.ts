import { Hono } from "hono";
import { recordAdminChange } from "../../audit/record";
import { notFound } from "../../lib/errors";
import { loadWorkspaceConfig } from "../../config/store";
import { keyScope, limiterNameFor } from "../../policy/limits";
import { createKey, getKey, listKeys, publicKey, revokeKey, updateKey } from "../../policy/keys";
import type { AppEnv } from "../../types";
import { readJsonBody } from "../body";
import { CreateKeySchema, UpdateKeySchema } from "./schemas";
import { requireWorkspace } from "./workspaces";

const keyNotFound = (workspaceId: string, keyId: string) => notFound(`Key "${keyId}" does not exist in workspace "${workspaceId}".`, "key_not_found");

/** /admin/workspaces/:id/keys: gateway keys, their limits, budgets, route lists and expiry. */
export const keysAdminApi = new Hono<AppEnv>()
  .post("/workspaces/:id/keys", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    const { name, ...policy } = await readJsonBody(c, CreateKeySchema);
    const { record, key } = await createKey(c.env, id, name, policy);
    await recordAdminChange(c, { action: "key.create", target: { type: "key", id: record.id, workspaceId: id }, after: publicKey(record) });
    return c.json({ ...publicKey(record), key }, 201);
  })
  .get("/workspaces/:id/keys", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    return c.json({ data: (await listKeys(c.env, id)).map(publicKey) });
  })
  .get("/workspaces/:id/keys/:keyId", async (c) => {
    const { id, keyId } = c.req.param();
    const record = await getKey(c.env, id, keyId);
    if (!record) throw keyNotFound(id, keyId);
    return c.json(publicKey(record));
  })
  .patch("/workspaces/:id/keys/:keyId", async (c) => {
    const { id, keyId } = c.req.param();
    const change = await readJsonBody(c, UpdateKeySchema);
    const before = await getKey(c.env, id, keyId);
    const record = before && (await updateKey(c.env, id, keyId, change));
    if (!before || !record) throw keyNotFound(id, keyId);
    await recordAdminChange(c, { action: "key.update", target: { type: "key", id: keyId, workspaceId: id }, before: publicKey(before), after: publicKey(record) });
    return c.json(publicKey(record));
  })
  .delete("/workspaces/:id/keys/:keyId", async (c) => {
    const { id, keyId } = c.req.param();
    const before = await getKey(c.env, id, keyId);
    if (!before || !(await revokeKey(c.env, id, keyId))) throw keyNotFound(id, keyId);
    // Its own limiter goes; counters kept in a workspace limiter expire with their window and period.
    c.executionCtx.waitUntil(c.env.KEY_LIMITER.getByName(limiterNameFor(id, null, keyId)).forget());
    await recordAdminChange(c, { action: "key.revoke", target: { type: "key", id: keyId, workspaceId: id }, before: publicKey(before) });
    return c.json({ id: keyId, deleted: true as const });
  })
  .get("/workspaces/:id/keys/:keyId/limits", async (c) => {
    const { id, keyId } = c.req.param();
    const record = await getKey(c.env, id, keyId);
    if (!record) throw keyNotFound(id, keyId);
    const limiter = limiterNameFor(id, await loadWorkspaceConfig(c.env, id), record.id);
    return c.json(await c.env.KEY_LIMITER.getByName(limiter).snapshot(keyScope(record.id)));
  });
