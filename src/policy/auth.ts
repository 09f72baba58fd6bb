import { createMiddleware } from "hono/factory";
import { DEFAULT_WORKSPACE, loadWorkspaceConfig } from "../config/store";
import { timingSafeEqualStrings } from "../lib/crypto";
import { GatewayError, unauthorized } from "../lib/errors";
import type { AppEnv } from "../types";
import { verifyKey } from "./keys";

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

/**
 * Gateway-key authentication for /v1/*: resolves the key to its workspace and loads that workspace's config.
 */
export const gatewayKeyAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const key = await verifyKey(c.env, presentedKey(c.req.raw.headers));
    if (!key) throw unauthorized("Invalid gateway key.");
    const config = await loadWorkspaceConfig(c.env, key.workspaceId);
    if (!config) {
      throw new GatewayError({ status: 404, type: "invalid_request_error", code: "workspace_not_configured", message: `Workspace "${key.workspaceId}" has no configuration.` });
    }
    c.set("key", key);
    c.set("workspaceId", key.workspaceId);
    c.set("config", config);
    const record = c.get("record");
    record.workspaceId = key.workspaceId;
    record.keyId = key.id;
    await next();
  });

/** Admin authentication: the ADMIN_TOKEN secret as a bearer token, compared in constant time. */
export const adminAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const expected: unknown = Reflect.get(c.env, "ADMIN_TOKEN");
    if (typeof expected !== "string" || expected === "") {
      throw new GatewayError({ status: 503, type: "configuration_error", code: "admin_disabled", message: "The admin API is disabled: set the ADMIN_TOKEN secret." });
    }
    const match = BEARER.exec(c.req.header("authorization") ?? "");
    if (!match || !timingSafeEqualStrings(match[1]!, expected)) throw unauthorized("Invalid admin token.");
    await next();
  });

export { DEFAULT_WORKSPACE };
