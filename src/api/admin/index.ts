import { Hono } from "hono";
import type { AppEnv } from "../../types";
import { credentialsAdminApi } from "./credentials";
import { keysAdminApi } from "./keys";
import { logsAdminApi } from "./logs";
import { openAPIAdminApi } from "./openapi";
import { usageAdminApi } from "./usage";
import { workspacesAdminApi } from "./workspaces";

/** Everything under /admin (behind adminAuth); `openapi.ts` lists each endpoint for the generated document. */
export const adminApi = new Hono<AppEnv>().route("/", workspacesAdminApi).route("/", keysAdminApi).route("/", credentialsAdminApi).route("/workspaces", usageAdminApi).route("/workspaces", logsAdminApi).route("/", openAPIAdminApi);
