import type { Context } from "hono";
import { GatewayError } from "../lib/errors";
import { randomId } from "../lib/ids";
import { clientAddress } from "../policy/client-address";
import type { AppEnv } from "../types";
import type { AuditAction, AuditTargetType } from "./actions";
import { changedFields, stateHash, type AuditEntry } from "./entry";
import { insertAuditEntries } from "./store";

/** What an admin handler changed: the target and its public form before and after (absent: did not exist). */
export type AdminChange = {
  action: AuditAction;
  target: { type: AuditTargetType; id: string; workspaceId: string | null };
  before?: unknown;
  after?: unknown;
};

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

async function entryFor(c: Context<AppEnv>, change: AdminChange): Promise<AuditEntry> {
  const actor = c.get("admin");
  return {
    id: randomId("aud_", 20),
    time: new Date().toISOString(),
    actor: { id: actor.id, name: actor.name, role: actor.role },
    action: change.action,
    target: change.target,
    beforeHash: await stateHash(change.before),
    afterHash: await stateHash(change.after),
    changedFields: changedFields(change.before, change.after),
    requestId: c.get("requestId"),
    clientAddress: clientAddress(c.req.raw.headers),
  };
}

/**
 * Records an admin write in the audit log, on the request path: the admin gets its answer only once the entry is
 * stored, so a successful answer means an audited change. The entry goes straight into D1; if that fails it is
 * handed to the `switchyard-audit` Queue, whose consumer writes it to D1 with retries (then its dead-letter
 * queue). If the Queue refuses it too, the entry is logged in full (it holds no secret) and the request fails
 * with 500 `audit_write_failed`, saying the change itself was applied: never a silent gap.
 */
export async function recordAdminChange(c: Context<AppEnv>, change: AdminChange): Promise<void> {
  const entry = await entryFor(c, change);
  try {
    await insertAuditEntries(c.env.USAGE_DB, [entry]);
    return;
  } catch (error) {
    logError("audit D1 write failed; queueing the entry", { auditId: entry.id, error: error instanceof Error ? error.message : String(error) });
  }
  try {
    await c.env.AUDIT_QUEUE.send(entry, { contentType: "json" });
    return;
  } catch (error) {
    logError("audit entry could not be stored", { entry, error: error instanceof Error ? error.message : String(error) });
  }
  throw new GatewayError({
    status: 500,
    type: "api_error",
    code: "audit_write_failed",
    message: `The change was applied, but its audit entry ${entry.id} could not be stored (it is in the gateway's error log; request id ${entry.requestId}).`,
  });
}
