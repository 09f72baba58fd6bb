import * as z from "zod";
import { driverWanted } from "../src/batches/gateway";
import { LineBook, LineClaimSchema, LineResultSchema, type ClaimVerdict } from "../src/batches/line-book";
import { RUNNERS } from "../src/batches/runners";
import { isFinal, type BatchRecord } from "../src/batches/schema";
import { findBatch, transition } from "../src/batches/store";
import { loadWorkspaceConfig } from "../src/config/store";
import { AlarmDriver, type DriverStep } from "./alarm-driver";

const BatchRefSchema = z.object({ workspaceId: z.string().min(1), batchId: z.string().min(1), total: z.number().int().nonnegative().optional() });
export type BatchRef = z.infer<typeof BatchRefSchema>;

const ACTIVE = ["validating", "in_progress", "finalizing", "cancelling"] as const;

/**
 * Drives one batch (named by its id) from an alarm: the runner's `start`, then `poll` until it answers `done`; a
 * cancel wakes it at once. The batch itself lives in D1 (src/batches/store.ts); the next alarm picks up from its
 * status. Marks: `started`, `cancelSent`; for a gateway-run batch also its line book (src/batches/line-book.ts),
 * which the Queue's consumer claims lines from and records results in through `claimLines`, `recordLine` and
 * `releaseLines`.
 */
export class BatchDriver extends AlarmDriver<BatchRef> {
  protected readonly refSchema = BatchRefSchema;
  protected override readonly refKey = "batch";
  protected readonly kind = "batch";
  #book: LineBook | undefined;

  #lines(): LineBook {
    return (this.#book ??= new LineBook(this.ctx.storage.sql));
  }

  /** The batch this object drives; undefined once it finished (its storage is gone) or before it began. */
  async #ref(): Promise<BatchRef | undefined> {
    const ref = BatchRefSchema.safeParse(await this.ctx.storage.get("batch"));
    return ref.success ? ref.data : undefined;
  }

  /** Claims lines for one Queue delivery (src/batches/line-book.ts `claim`); every line stops once the batch has finished. */
  async claimLines(input: { claims: z.input<typeof LineClaimSchema>[]; now?: number }): Promise<ClaimVerdict[]> {
    const claims = z.array(LineClaimSchema).max(1_000).parse(input.claims);
    if (!(await this.#ref())) return claims.map(({ index }) => ({ index, verdict: "stop" }));
    return this.#lines().claim(claims, input.now ?? Date.now());
  }

  /** Gives deferred lines back; their messages were sent again, visible from `visibleAt`. */
  async releaseLines(input: { claims: { index: number; messageId: string }[]; visibleAt: number }): Promise<void> {
    const claims = z.array(LineClaimSchema.pick({ index: true, messageId: true })).max(1_000).parse(input.claims);
    if (!(await this.#ref())) return;
    this.#lines().release(claims, z.number().int().parse(input.visibleAt));
  }

  /** Writes a line's result once (false: it had one already) and wakes the driver when that moves the batch on. */
  async recordLine(input: z.input<typeof LineResultSchema>): Promise<boolean> {
    const result = LineResultSchema.parse(input);
    const ref = await this.#ref();
    if (!ref) return false;
    const lines = this.#lines();
    if (!lines.record(result)) return false;
    const now = Date.now();
    if (driverWanted(lines, ref.total ?? Number.MAX_SAFE_INTEGER, now)) {
      const alarm = await this.ctx.storage.getAlarm();
      if (alarm === null || alarm > now) await this.ctx.storage.setAlarm(now);
    }
    return true;
  }

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
    const context = { env: this.env, batch, config, lines: () => this.#lines() };
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

  protected override async forget(): Promise<void> {
    await super.forget();
    this.#book = undefined;
  }
}
