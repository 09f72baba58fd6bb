import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { GatewayError, unauthorized } from "../../lib/errors";
import { SyncRequestSchema, UsageShipmentSchema } from "../../hybrid/protocol";
import { syncFor } from "../../hybrid/snapshot";
import { receiveShippedUsage } from "../../hybrid/usage-intake";
import { authorize } from "../../policy/admin-access";
import { identityOf, verifyAdminToken } from "../../policy/admin-tokens";
import { throttledAuthentication } from "../../policy/auth-throttle";
import type { AppEnv } from "../../types";
import { readJsonBody } from "../body";
import { LeaseCallSchema } from "../../limits/http-transport";
import { ExchangeRequestSchema } from "../../limits/protocol";
import { leaseHolderOf, limiterWorkspace } from "../../hybrid/lease-gate";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Node-token authentication for the control-plane API: `Authorization: Bearer <node token>` (an admin token of
 * role `node`, src/policy/admin-tokens.ts), throttled per address like the admin API. Any other credential is
 * refused (403 for other admin tokens, 401 for the rest), so neither an owner nor a gateway key can pull configs.
 * A revoked node token is refused within the token cache's 3 s.
 */
export const nodeAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.env.SWITCHYARD_ROLE === "data") {
      throw new GatewayError({ status: 404, type: "invalid_request_error", code: "unknown_url", message: "This gateway is a data plane: the control-plane API is served by its control plane." });
    }
    const match = BEARER.exec(c.req.header("authorization") ?? "");
    if (!match) throw unauthorized("Send the node token as 'Authorization: Bearer <token>'.");
    const record = await throttledAuthentication(c.env, c.req.raw.headers, "control", async () => {
      const found = await verifyAdminToken(c.env, match[1]!);
      if (!found) throw unauthorized("Invalid node token.");
      return found;
    });
    const identity = identityOf(record);
    authorize(identity, "node", undefined, `${c.req.method} ${c.req.path}`);
    c.set("admin", identity);
    await next();
  });

const enrolledOf = (workspaces: string[] | null): string[] => workspaces ?? [];

/**
 * /control/v1: what a hybrid data plane asks of its control plane (docs/hybrid.md). `POST /sync` pulls the
 * configs and key hashes of the node's workspaces that changed since the versions it holds; `POST /lease` is one
 * lease exchange with a KeyLimiter of those workspaces (src/limits/protocol.ts); `POST /usage` delivers usage
 * metadata, written once per request id.
 */
export const controlApi = new Hono<AppEnv>()
  .use("*", nodeAuth())
  .post("/sync", async (c) => {
    const request = await readJsonBody(c, SyncRequestSchema);
    return c.json(await syncFor(c.env, enrolledOf(c.get("admin").workspaces), request));
  })
  .post("/lease", async (c) => {
    const call = await readJsonBody(c, LeaseCallSchema);
    const identity = c.get("admin");
    await limiterWorkspace(c.env, enrolledOf(identity.workspaces), call.limiter);
    const parsed = ExchangeRequestSchema.safeParse(call.request);
    if (!parsed.success) throw new GatewayError({ status: 400, type: "invalid_request_error", code: "invalid_lease_exchange", param: "request", message: `Invalid lease exchange: ${parsed.error.issues[0]?.message ?? "malformed"}.` });
    // The holder is the node's (its token id), never what the body claims; time is the control plane's own.
    const { now: _now, ...request } = parsed.data;
    return c.json(await c.env.KEY_LIMITER.getByName(call.limiter).exchange({ ...request, holder: leaseHolderOf(identity.id, request.holder) }));
  })
  .post("/usage", async (c) => {
    const shipment = await readJsonBody(c, UsageShipmentSchema);
    return c.json(await receiveShippedUsage(c.env.USAGE_DB, enrolledOf(c.get("admin").workspaces), shipment.events));
  });
