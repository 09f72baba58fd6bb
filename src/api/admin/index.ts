import { Hono } from "hono";
import type { AppEnv } from "../../types";
import { auditAdminApi } from "./audit";
import { credentialsAdminApi } from "./credentials";
import { keysAdminApi } from "./keys";
import { openAPIAdminApi } from "./openapi";
import { tokensAdminApi } from "./tokens";
import { usageAdminApi } from "./usage";
import { workspacesAdminApi } from "./workspaces";

/**
 * Everything under /admin (behind adminAuth and adminAccess); `operations.ts` lists each endpoint with the access
 * it needs, for the authorization check and the generated OpenAPI document.
 */
export const adminApi = new Hono<AppEnv>()
  .route("/", workspacesAdminApi)
  .route("/", keysAdminApi)
  .route("/", credentialsAdminApi)
  .route("/workspaces", usageAdminApi)
  .route("/", tokensAdminApi)
  .route("/", auditAdminApi)
  .route("/", openAPIAdminApi);
