import { createMiddleware } from "hono/factory";
import { DEFAULT_WORKSPACE, loadWorkspaceConfig } from "../config/store";
import { GatewayError, badRequest, unauthorized } from "../lib/errors";
import type { AppEnv } from "../types";
import { ADMIN_TOKEN_IDENTITY, authorize, type AdminIdentity } from "./admin-access";
import { resolveAdminCredential } from "./admin-auth";
import { throttledAuthentication } from "./auth-throttle";
import { isExpired, isGatewayKeyShaped, verifyKey, type KeyRecord } from "./keys";
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
const adminTestKey = (identity: AdminIdentity, workspaceId: string): KeyRecord => ({
  id: identity.id === ADMIN_TOKEN_IDENTITY.id ? "admin" : identity.id,
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
    if (isExpired(key)) throw new GatewayError({ status: 401, type: "invalid_request_error", code: "key_expired", message: `This gateway key expired at ${key.expiresAt}.` });
    if (fromHost !== undefined && fromHost !== key.workspaceId) throw wrongWorkspace(fromHost, "the subdomain");
    if (fromHeader !== undefined && fromHeader !== key.workspaceId) throw wrongWorkspace(fromHeader, `the ${WORKSPACE_HEADER} header`);
    const config = await loadWorkspaceConfig(c.env, key.workspaceId);
    if (!config) {
      throw new GatewayError({ status: 404, type: "invalid_request_error", code: "workspace_not_configured", message: `Workspace "${key.workspaceId}" has no configuration.` });
    }
    c.set("key", key);
    c.set("workspaceId", key.workspaceId);
    c.set("config", config);
    await next();
  });

export { DEFAULT_WORKSPACE };
