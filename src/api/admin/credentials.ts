import { Hono } from "hono";
import type { Context } from "hono";
import { recordAdminChange } from "../../audit/record";
import { CredentialNameSchema, deleteCredential, listCredentials, putCredential, rotateCredentials } from "../../config/credential-store";
import { badRequest, notFound } from "../../lib/errors";
import type { AppEnv } from "../../types";
import { readJsonBody } from "../body";
import { PutCredentialSchema } from "./schemas";
import { requireWorkspace } from "./workspaces";

/** A credential's metadata (never its value): the audit log's "before". */
const credentialInfo = async (env: Env, workspaceId: string, name: string) => (await listCredentials(env, workspaceId)).find((info) => info.name === name);

function credentialName(c: Context<AppEnv>): string {
  const parsed = CredentialNameSchema.safeParse(c.req.param("name"));
  if (!parsed.success) throw badRequest(`Invalid value for 'name': ${parsed.error.issues[0]!.message}`, "name", "invalid_value");
  return parsed.data;
}

/** Stored provider credentials (virtual keys): write-only secrets, listed by name. */
export const credentialsAdminApi = new Hono<AppEnv>()
  .get("/workspaces/:id/credentials", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    return c.json({ data: await listCredentials(c.env, id) });
  })
  .put("/workspaces/:id/credentials/:name", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    const name = credentialName(c);
    const { value } = await readJsonBody(c, PutCredentialSchema);
    const before = await credentialInfo(c.env, id, name);
    const { created, ...info } = await putCredential(c.env, id, name, value);
    await recordAdminChange(c, { action: created ? "credential.create" : "credential.update", target: { type: "credential", id: name, workspaceId: id }, before, after: info });
    return c.json(info, created ? 201 : 200);
  })
  .delete("/workspaces/:id/credentials/:name", async (c) => {
    const id = c.req.param("id");
    await requireWorkspace(c.env, id);
    const name = credentialName(c);
    const before = await credentialInfo(c.env, id, name);
    if (!(await deleteCredential(c.env, id, name))) throw notFound(`Credential "${name}" does not exist in workspace "${id}".`, "credential_not_found");
    await recordAdminChange(c, { action: "credential.delete", target: { type: "credential", id: name, workspaceId: id }, before });
    return c.json({ id: name, deleted: true as const });
  })
  .post("/credentials/rotate", async (c) => {
    const report = await rotateCredentials(c.env);
    await recordAdminChange(c, { action: "credentials.rotate", target: { type: "master_key", id: report.masterKeyId, workspaceId: null }, after: report });
    return c.json(report);
  });
