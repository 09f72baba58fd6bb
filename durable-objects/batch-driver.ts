import * as z from "zod";
import { RUNNERS } from "../src/batches/runners";
import { isFinal, type BatchRecord } from "../src/batches/schema";
import { findBatch, transition } from "../src/batches/store";
import { loadWorkspaceConfig } from "../src/config/store";
import { AlarmDriver, type DriverStep } from "./alarm-driver";

const BatchRefSchema = z.object({ workspaceId: z.string().min(1), batchId: z.string().min(1) });
export type BatchRef = z.infer<typeof BatchRefSchema>;

const ACTIVE = ["validating", "in_progress", "finalizing", "cancelling"] as const;

/**
 * Drives one batch (named by its id): the runner's `start`, then `poll` until it answers `done`; a cancel wakes it
 * at once. The batch itself lives in D1 (src/batches/store.ts); the next alarm picks up from its status. Marks:
 * `started`, `cancelSent`.
 */
export class BatchDriver extends AlarmDriver<BatchRef> {
  protected readonly refSchema = BatchRefSchema;
  protected override readonly refKey = "batch";
  protected readonly kind = "batch";

  protected async step(ref: BatchRef): Promise<DriverStep> {
    const batch = await findBatch(this.env.USAGE_DB, ref.workspaceId, ref.batchId);
    if (!batch || isFinal(batch.status)) return { next: "done" };
    return this.#step(batch);
  }

  protected async giveUp(ref: BatchRef, message: string): Promise<void> {
    await transition(this.env.USAGE_DB, { id: ref.batchId, workspaceId: ref.workspaceId }, ACTIVE, "failed", { errors: [{ code: "batch_driver_failed", message, param: null, line: null }] });
  }

  async #step(batch: BatchRecord): Promise<DriverStep> {
    const config = await loadWorkspaceConfig(this.env, batch.workspaceId);
    const runner = RUNNERS[batch.mode];
    if (!config || !runner) {
      const message = !config ? `Workspace "${batch.workspaceId}" has no configuration any more.` : `Batch mode "${batch.mode}" is not available.`;
      await transition(this.env.USAGE_DB, batch, ACTIVE, "failed", { errors: [{ code: "batch_not_runnable", message, param: null, line: null }] });
      return { next: "done" };
    }
    const context = { env: this.env, batch, config };
    if (batch.status === "cancelling" && !(await this.marked("cancelSent"))) {
      const step = await runner.cancel(context);
      await this.mark("cancelSent");
      return step;
    }
    if (batch.status === "validating" && !(await this.marked("started"))) {
      // Marked only once the start went through: a start that threw is tried again by the next alarm.
      const step = await runner.start(context);
      await this.mark("started");
      return step;
    }
    return runner.poll(context);
  }
}
