import * as z from "zod/mini";
import { ADMIN_ROLES } from "../../policy/admin-roles";

/**
 * The dashboard's only way to the gateway: the admin API, called with the token the user signed in with. The
 * token is kept in sessionStorage (this tab only, gone when it closes) and sent as a bearer token. Every answer
 * is checked against the shape the view reads, so a changed API fails loudly here rather than drawing nonsense.
 */

const TOKEN_KEY = "switchyard-admin-token";

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const storeToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

/** The token was refused (401): the page goes back to the sign-in form. */
export class Unauthorized extends Error {
  constructor() {
    super("The admin token was not accepted.");
    this.name = "Unauthorized";
  }
}

/** Any other refusal, with the gateway's own message (`error.message` of the OpenAI error shape). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const ErrorBodySchema = z.object({ error: z.object({ message: z.string() }) });

async function call<T>(path: string, schema: z.ZodMiniType<T>, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${storedToken() ?? ""}` };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method: init.method ?? "GET", headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const body: unknown = await res.json().catch(() => undefined);
  if (res.status === 401) throw new Unauthorized();
  if (!res.ok) {
    const parsed = ErrorBodySchema.safeParse(body);
    throw new ApiError(res.status, parsed.success ? parsed.data.error.message : `HTTP ${res.status}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(res.status, `unexpected answer from ${path}`);
  return parsed.data;
}

export const getJson = <T>(path: string, schema: z.ZodMiniType<T>): Promise<T> => call(path, schema);
export const sendJson = <T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, schema: z.ZodMiniType<T>, body?: unknown): Promise<T> => call(path, schema, { method, body });

export const listOf = <T>(item: z.ZodMiniType<T>) => z.object({ data: z.array(item) });

/** Who signed in (GET /admin/me): what the dashboard shows follows from it. */
export const IdentitySchema = z.object({ id: z.string(), name: z.string(), role: z.enum(ADMIN_ROLES), workspaces: z.nullable(z.array(z.string())) });
export type Identity = z.infer<typeof IdentitySchema>;

/** Whether the identity may change this workspace's keys, config and credentials (the server decides; this hides buttons). */
export const canWrite = (identity: Identity, workspaceId: string): boolean =>
  identity.role === "owner" || (identity.role === "workspace_admin" && (identity.workspaces ?? []).includes(workspaceId));

export const DeletedSchema = z.object({ id: z.string(), deleted: z.literal(true) });

export const WorkspaceSchema = z.object({ id: z.string(), name: z.string() });
export type Workspace = z.infer<typeof WorkspaceSchema>;

/** Path of a workspace's admin resource, its id escaped. */
export const workspacePath = (workspaceId: string, rest = ""): string => `/admin/workspaces/${encodeURIComponent(workspaceId)}${rest}`;
