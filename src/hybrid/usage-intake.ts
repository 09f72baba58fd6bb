import { GatewayError } from "../lib/errors";
import { withRollups } from "../usage/rollups";
import { SHIPPED_USAGE_COLUMNS, type ShippedUsageEvent, type UsageReceipt } from "./protocol";

const INSERT_SHIPPED = `INSERT INTO usage_events (${SHIPPED_USAGE_COLUMNS.join(", ")}) VALUES (${SHIPPED_USAGE_COLUMNS.map(() => "?").join(", ")}) ON CONFLICT (request_id) DO NOTHING`;

/**
 * Writes usage events shipped by a data plane into the control plane's usage table, in one D1 batch (all or
 * nothing, so the node ships again after a failure), with the usage rollups the usage API answers from. Keyed by the request id: an event shipped twice (a receipt
 * lost on the way back) is written once. A node may ship only its enrolled workspaces' events.
 */
export async function receiveShippedUsage(db: D1Database, enrolled: readonly string[], events: readonly ShippedUsageEvent[]): Promise<UsageReceipt> {
  const foreign = events.find((e) => !enrolled.includes(e.workspace_id));
  if (foreign) {
    throw new GatewayError({ status: 403, type: "permission_error", code: "workspace_forbidden", message: `This node is not enrolled in workspace "${foreign.workspace_id}".` });
  }
  const statement = db.prepare(INSERT_SHIPPED);
  const inserts = events.map((event) => statement.bind(...SHIPPED_USAGE_COLUMNS.map((column) => event[column])));
  // withRollups puts one statement before the inserts (the mark) and three after them.
  const results = (await db.batch(withRollups(db, inserts))).slice(1, 1 + inserts.length);
  return { received: events.length, inserted: results.reduce((sum, r) => sum + (r.meta.changes ?? 0), 0) };
}
