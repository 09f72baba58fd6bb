import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { DEFAULT_WORKSPACE, loadWorkspaceConfig } from "../config/store";
import { timingSafeEqualStrings } from "../lib/crypto";
import { GatewayError, badRequest, unauthorized } from "../lib/errors";
import type { AppEnv } from "../types";
import { batchLineCallerOf } from "./batch-line-caller";
import { getKey, isExpired, verifyKey, type KeyRecord } from "./keys";
import { WORKSPACE_HEADER, workspaceFromHost, wrongWorkspace } from "./workspace-selection";

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

function isAdminToken(env: Env, presented: string): boolean {
  const expected: unknown = Reflect.get(env, "ADMIN_TOKEN");
  return typeof expected === "string" && expected !== "" && timingSafeEqualStrings(presented, expected);
}

/** The admin token acting as a workspace for its own test requests: no limits, every route. */
const ADMIN_TEST_KEY_ID = "admin";
const adminTestKey = (workspaceId: string): KeyRecord => ({ id: ADMIN_TEST_KEY_ID, workspaceId, name: "admin token", hash: "", createdAt: new Date(0).toISOString() });

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
    const fromHeader = c.req.header(WORKSPACE_HEADER);
    let key: KeyRecord | null;
    if (isAdminToken(c.env, presented)) {
      const selected = fromHost ?? fromHeader;
      if (selected === undefined) throw badRequest(`The admin token needs a workspace on /v1/*: send the ${WORKSPACE_HEADER} header.`, WORKSPACE_HEADER, "workspace_required");
      key = adminTestKey(selected);
    } else {
      key = await verifyKey(c.env, presented);
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
  const record = c.get("record");
  record.workspaceId = key.workspaceId;
  record.keyId = key.id;
}

/**
 * The key a batch runs as, as it is now: the one that created it (limits and allow-list as currently set), or
 * the admin token's test key; null once that key was revoked (its batch's remaining lines are refused).
 */
export async function batchKeyOf(env: Env, workspaceId: string, keyId: string | null): Promise<KeyRecord | null> {
  if (keyId === null || keyId === ADMIN_TEST_KEY_ID) return adminTestKey(workspaceId);
  return getKey(env, workspaceId, keyId);
}

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
