import { badRequest } from "../lib/errors";
import type { BatchRecord } from "./schema";
import { findBatch, transition } from "./store";

/**
 * Cancelling: the batch moves to `cancelling` (only from `validating` or `in_progress`) and its driver is woken
 * to tell the runner; it ends `cancelled` once the runner has stopped its lines and written what finished.
 */
export async function cancelBatch(env: Env, batch: BatchRecord): Promise<BatchRecord> {
  if (batch.status === "cancelling" || batch.status === "cancelled") return batch;
  if (!(await transition(env.USAGE_DB, batch, ["validating", "in_progress"], "cancelling"))) {
    const now = await findBatch(env.USAGE_DB, batch.workspaceId, batch.id);
    if (now?.status === "cancelling" || now?.status === "cancelled") return now;
    throw badRequest(`Cannot cancel a batch with status "${now?.status ?? batch.status}".`, null, "batch_not_cancellable");
  }
  await env.BATCH_DRIVER.getByName(batch.id).wake();
  return (await findBatch(env.USAGE_DB, batch.workspaceId, batch.id)) ?? batch;
}
