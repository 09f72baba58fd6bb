import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { DEFAULT_WORKSPACE, loadWorkspaceConfig } from "../config/store";
import { GatewayError, badRequest, unauthorized } from "../lib/errors";
import type { AppEnv } from "../types";
import { ADMIN_TOKEN_IDENTITY, authorize, grants, inScope, type AdminIdentity } from "./admin-access";
import { resolveAdminCredential } from "./admin-auth";
import { ADMIN_TOKEN_ID_PREFIX, getAdminToken, identityOf } from "./admin-tokens";
import { throttledAuthentication } from "./auth-throttle";
import { batchLineCallerOf } from "./batch-line-caller";
import { getKey, isExpired, isGatewayKeyShaped, verifyKey, type KeyRecord } from "./keys";
import { WORKSPACE_HEADER, workspaceFromHeader, workspaceFromHost, wrongWorkspace } from "./workspace-selection";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The key a client presented: `Authorization: Bearer` (OpenAI SDKs) or `x-api-key` (Anthropic SDKs). */
export function presentedKey(headers: Headers): string {
  const authorization = headers.get("authorization");
  const apiKey = headers.get("x-api-key");
  if (authorization !== null) {
    const match = BEARER.exec(authorization);
    if (!match) throw unauthorized("The Authorization header must be 'Bearer <gateway key>'.");
    return match[1]!;
  }
  if (apiKey !== null) {
    if (apiKey.trim() === "") throw unauthorized("The x-api-key header is empty.");
    return apiKey.trim();
  }
  throw unauthorized("Missing gateway key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'.");
}

/** The admin credential acting as a workspace for its own test requests: no limits, every route. */
const ADMIN_TEST_KEY_ID = "admin";
const adminTestKey = (identity: AdminIdentity, workspaceId: string): KeyRecord => ({
  id: identity.id === ADMIN_TOKEN_IDENTITY.id ? ADMIN_TEST_KEY_ID : identity.id,
  workspaceId,
  name: identity.name,
  hash: "",
  createdAt: new Date(0).toISOString(),
});

/**
 * Gateway-key authentication for /v1/*: the key decides the workspace. A subdomain (`<ws>.<GATEWAY_DOMAIN>`) or
 * the x-switchyard-workspace header naming another workspace is refused; for the admin token they select it.
 */
export const gatewayKeyAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const line = batchLineCallerOf(c.req.raw);
    if (line) {
      // A line of a gateway-run batch, made inside the Worker on behalf of the key that created the batch.
      if (isExpired(line.key)) throw keyExpired(line.key);
      await actAs(c, line.key);
      c.set("batchLine", line);
      return next();
    }
    const presented = presentedKey(c.req.raw.headers);
    const fromHost = workspaceFromHost(c.env.GATEWAY_DOMAIN, c.req.url);
    const fromHeader = workspaceFromHeader(c.req.header(WORKSPACE_HEADER));
    let key: KeyRecord | null;
    if (isGatewayKeyShaped(presented)) {
      key = await verifyKey(c.env, presented);
    } else {
      // Anything else can only be an admin credential: it is checked, and its failures counted, like on /admin.
      const identity = await throttledAuthentication(c.env, c.req.raw.headers, "v1", async () => {
        const found = await resolveAdminCredential(c.env, presented);
        if (!found) throw unauthorized("Invalid gateway key.");
        return found;
      });
      const selected = fromHost ?? fromHeader;
      if (selected === undefined) throw badRequest(`The admin token needs a workspace on /v1/*: send the ${WORKSPACE_HEADER} header.`, WORKSPACE_HEADER, "workspace_required");
      authorize(identity, "write", selected, "call /v1/* as a workspace");
      key = adminTestKey(identity, selected);
    }
    if (!key) throw unauthorized("Invalid gateway key.");
    if (isExpired(key)) throw keyExpired(key);
    if (fromHost !== undefined && fromHost !== key.workspaceId) throw wrongWorkspace(fromHost, "the subdomain");
    if (fromHeader !== undefined && fromHeader !== key.workspaceId) throw wrongWorkspace(fromHeader, `the ${WORKSPACE_HEADER} header`);
    await actAs(c, key);
    await next();
  });

const keyExpired = (key: KeyRecord) => new GatewayError({ status: 401, type: "invalid_request_error", code: "key_expired", message: `This gateway key expired at ${key.expiresAt}.` });

/** The request acts as `key`, in its workspace, with that workspace's config. */
async function actAs(c: Context<AppEnv>, key: KeyRecord): Promise<void> {
  const config = await loadWorkspaceConfig(c.env, key.workspaceId);
  if (!config) {
    throw new GatewayError({ status: 404, type: "invalid_request_error", code: "workspace_not_configured", message: `Workspace "${key.workspaceId}" has no configuration.` });
  }
  c.set("key", key);
  c.set("workspaceId", key.workspaceId);
  c.set("config", config);
}

/**
 * The key a batch runs as, as it is now: the one that created it (limits and allow-list as currently set), or
 * the test key of the admin credential that created it; null once that key or admin token was revoked, expired
 * or lost write access to the workspace (its batch's remaining lines are refused).
 */
export async function batchKeyOf(env: Env, workspaceId: string, keyId: string | null): Promise<KeyRecord | null> {
  if (keyId === null || keyId === ADMIN_TEST_KEY_ID) return adminTestKey(ADMIN_TOKEN_IDENTITY, workspaceId);
  if (keyId.startsWith(ADMIN_TOKEN_ID_PREFIX)) {
    const token = await getAdminToken(env, keyId);
    if (!token || (token.expiresAt !== undefined && Date.parse(token.expiresAt) <= Date.now())) return null;
    const identity = identityOf(token);
    return grants(identity, "write") && inScope(identity, workspaceId) ? adminTestKey(identity, workspaceId) : null;
  }
  return getKey(env, workspaceId, keyId);
}

export { DEFAULT_WORKSPACE };
