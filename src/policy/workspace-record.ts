import * as z from "zod";

/** A workspace as stored (`ws:<id>` in GATEWAY_KV): pure data, shared with the data plane's sync (docs/hybrid.md). */

export const WorkspaceIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "workspace ids are lowercase letters, digits and '-' (a DNS label)")
  .describe("Also the workspace's subdomain: <id>.<GATEWAY_DOMAIN>.");

export const isWorkspaceId = (id: string): boolean => WorkspaceIdSchema.safeParse(id).success;

export const WorkspaceSchema = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
export type Workspace = z.infer<typeof WorkspaceSchema>;

export const workspaceKv = (id: string) => `ws:${id}`;
/** The workspace's config document (JSON), when the admin API (or, on a data plane, the sync) stored one. */
export const workspaceConfigKv = (id: string) => `ws-config:${id}`;
