import * as z from "zod";
import { DEFAULT_WORKSPACE, configKvKey, forgetWorkspaceConfig } from "../config/store";

export const WorkspaceIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "workspace ids are lowercase letters, digits and '-' (a DNS label)")
  .describe("Also the workspace's subdomain: <id>.<GATEWAY_DOMAIN>.");

export const isWorkspaceId = (id: string): boolean => WorkspaceIdSchema.safeParse(id).success;

export const WorkspaceSchema = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
export type Workspace = z.infer<typeof WorkspaceSchema>;

const workspaceKv = (id: string) => `ws:${id}`;

/** `default` always exists: the config file configures it. */
const defaultWorkspace = (): Workspace => ({ id: DEFAULT_WORKSPACE, name: "Default", createdAt: new Date(0).toISOString() });

export async function getWorkspace(env: Env, id: string): Promise<Workspace | null> {
  // No workspace has an id outside the schema; such an id (600 characters, say) is not even a storable KV key.
  if (!isWorkspaceId(id)) return null;
  const stored = await env.GATEWAY_KV.get(workspaceKv(id));
  if (stored !== null) return WorkspaceSchema.parse(JSON.parse(stored));
  return id === DEFAULT_WORKSPACE ? defaultWorkspace() : null;
}

export async function putWorkspace(env: Env, workspace: Workspace): Promise<void> {
  await env.GATEWAY_KV.put(workspaceKv(workspace.id), JSON.stringify(workspace));
}

export async function listWorkspaces(env: Env): Promise<Workspace[]> {
  const out = new Map<string, Workspace>([[DEFAULT_WORKSPACE, defaultWorkspace()]]);
  let cursor: string | undefined;
  do {
    const page = await env.GATEWAY_KV.list({ prefix: "ws:", ...(cursor ? { cursor } : {}) });
    const values = await Promise.all(page.keys.map((k) => env.GATEWAY_KV.get(k.name)));
    for (const value of values) if (value !== null) {
      const workspace = WorkspaceSchema.parse(JSON.parse(value));
      out.set(workspace.id, workspace);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return [...out.values()];
}

export async function deleteWorkspace(env: Env, id: string): Promise<void> {
  await Promise.all([env.GATEWAY_KV.delete(workspaceKv(id)), env.GATEWAY_KV.delete(configKvKey(id))]);
  forgetWorkspaceConfig(id);
}
