import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../lib/errors";
import { authorize } from "../../policy/admin-access";
import type { AppEnv } from "../../types";
import { matchOperation } from "./operations";

/**
 * Authorization for /admin/* (after adminAuth): the endpoint's row in ADMIN_OPERATIONS says which access it
 * needs, and the caller's role and workspaces decide (src/policy/admin-access.ts), before the handler reads or
 * writes anything. Default-deny: a path missing from the table is refused to everyone but owners (for whom the
 * router answers), so a new endpoint cannot be open to scoped tokens by accident.
 */
export const adminAccess = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const identity = c.get("admin");
    const path = c.req.path.slice("/admin".length) || "/";
    const found = matchOperation(c.req.method, path);
    if (!found) {
      if (identity.role === "owner") return next();
      throw new GatewayError({ status: 404, type: "invalid_request_error", code: "unknown_url", message: `Unknown request URL: ${c.req.method} ${c.req.path}.` });
    }
    authorize(identity, found.operation.access, found.workspaceId, `${c.req.method} ${c.req.path}`);
    await next();
  });
