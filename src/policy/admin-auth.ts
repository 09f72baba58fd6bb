import { createMiddleware } from "hono/factory";
import { timingSafeEqualStrings } from "../lib/crypto";
import { GatewayError, unauthorized } from "../lib/errors";
import type { AppEnv } from "../types";
import { ADMIN_TOKEN_IDENTITY, type AdminIdentity } from "./admin-access";
import { adminTokenWeakness, isLocalDevelopment, STRONG_TOKEN_HINT } from "./admin-token-strength";
import { identityOf, verifyAdminToken } from "./admin-tokens";
import { throttledAuthentication } from "./auth-throttle";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

const adminSecret = (env: Env): string | undefined => {
  const value: unknown = Reflect.get(env, "ADMIN_TOKEN");
  return typeof value === "string" && value !== "" ? value : undefined;
};

/**
 * Why the ADMIN_TOKEN secret cannot be used, or null when it can: unset, or too weak outside local development
 * (src/policy/admin-token-strength.ts). Independent of what a client presents, so answering with it reveals
 * nothing about a guess.
 */
export function adminSecretProblem(env: Env): GatewayError | null {
  const secret = adminSecret(env);
  if (secret === undefined) {
    return new GatewayError({ status: 503, type: "configuration_error", code: "admin_disabled", message: "The admin API is disabled: set the ADMIN_TOKEN secret." });
  }
  const weakness = isLocalDevelopment(env) ? null : adminTokenWeakness(secret);
  if (weakness === null) return null;
  return new GatewayError({
    status: 503,
    type: "configuration_error",
    code: "admin_token_weak",
    message: `The gateway refuses its ADMIN_TOKEN outside local development: ${weakness}. Set a strong one (${STRONG_TOKEN_HINT} | npx wrangler secret put ADMIN_TOKEN); admin tokens made through the API keep working.`,
  });
}

/**
 * The identity behind a presented admin credential — a stored admin token (any role) or the ADMIN_TOKEN secret
 * (an owner, unless it is refused: see `adminSecretProblem`) — or null.
 */
export async function resolveAdminCredential(env: Env, presented: string): Promise<AdminIdentity | null> {
  const stored = await verifyAdminToken(env, presented);
  if (stored) return identityOf(stored);
  const secret = adminSecret(env);
  if (secret === undefined || adminSecretProblem(env) !== null) return null;
  return timingSafeEqualStrings(presented, secret) ? ADMIN_TOKEN_IDENTITY : null;
}

/**
 * Admin authentication for /admin/*: `Authorization: Bearer <ADMIN_TOKEN or an admin token>`, throttled per
 * client address (src/policy/auth-throttle.ts). Sets `admin` (who is calling); what it may do is decided per
 * endpoint afterwards (src/api/admin/access.ts).
 */
export const adminAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const match = BEARER.exec(c.req.header("authorization") ?? "");
    if (!match) throw unauthorized("Send an admin token as 'Authorization: Bearer <token>'.");
    const identity = await throttledAuthentication(c.env, c.req.raw.headers, "admin", async () => {
      const found = await resolveAdminCredential(c.env, match[1]!);
      if (!found) throw adminSecretProblem(c.env) ?? unauthorized("Invalid admin token.");
      return found;
    });
    c.set("admin", identity);
    await next();
  });
