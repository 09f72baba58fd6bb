import { DurableObject } from "cloudflare:workers";
import * as z from "zod";
import { driverWanted } from "../src/batches/gateway";
import { LineBook, LineClaimSchema, LineResultSchema, type ClaimVerdict } from "../src/batches/line-book";
import { RUNNERS } from "../src/batches/runners";
import { isFinal, type BatchRecord } from "../src/batches/schema";
import { findBatch, transition } from "../src/batches/store";
import type { RunnerStep } from "../src/batches/runner";
import { loadWorkspaceConfig } from "../src/config/store";

const BatchRefSchema = z.object({ workspaceId: z.string().min(1), batchId: z.string().min(1), total: z.number().int().nonnegative().optional() });
export type BatchRef = z.infer<typeof BatchRefSchema>;

/** An alarm that throws is retried by the runtime (with backoff); past this many tries in a row the batch fails. */
const MAX_FAILED_ALARMS = 8;
const RETRY_AFTER_FAILURE_MS = 30_000;

/**
 * Drives one batch (named by its id) from an alarm: the runner's `start`, then `poll` until it answers `done`;
 * a cancel wakes it at once. The batch itself lives in D1 (src/batches/store.ts); this object keeps which batch
 * it drives and which steps it has taken, so a restart loses nothing: the next alarm picks up from the batch's
 * status. Storage: `batch` ({ workspaceId, batchId, total }), `started`, `cancelSent`, `failedAlarms`, and for a
 * gateway-run batch its line book (src/batches/line-book.ts), which the Queue's consumer claims lines from and
 * records results in through `claimLines`, `recordLine` and `releaseLines`.
 */
export class BatchDriver extends DurableObject<Env> {
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

  /** Records the batch and runs its first step right away. */
  async begin(ref: BatchRef): Promise<void> {
    await this.ctx.storage.put("batch", BatchRefSchema.parse(ref));
    await this.ctx.storage.setAlarm(Date.now());
  }

  /** The batch was moved to `cancelling`: pass it on to the runner now rather than at the next poll. */
  async wake(): Promise<void> {
    if (await this.ctx.storage.get("batch")) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const ref = BatchRefSchema.safeParse(await this.ctx.storage.get("batch"));
    if (!ref.success) return;
    const batch = await findBatch(this.env.USAGE_DB, ref.data.workspaceId, ref.data.batchId);
    if (!batch || isFinal(batch.status)) return this.#forget();
    let step: RunnerStep;
    try {
      step = await this.#step(batch);
      await this.ctx.storage.put("failedAlarms", 0);
    } catch (error) {
      const failures = ((await this.ctx.storage.get<number>("failedAlarms")) ?? 0) + 1;
      await this.ctx.storage.put("failedAlarms", failures);
      console.error(JSON.stringify({ level: "error", message: "batch step failed", batchId: batch.id, failures, error: error instanceof Error ? error.message : String(error) }));
      if (failures < MAX_FAILED_ALARMS) return this.ctx.storage.setAlarm(Date.now() + RETRY_AFTER_FAILURE_MS * failures);
      const message = `The batch could not be driven after ${failures} attempts: ${error instanceof Error ? error.message : String(error)}`;
      await transition(this.env.USAGE_DB, batch, ["validating", "in_progress", "finalizing", "cancelling"], "failed", { errors: [{ code: "batch_driver_failed", message, param: null, line: null }] });
      return this.#forget();
    }
    if (step.next === "done") return this.#forget();
    // A wake that arrived while this step ran (a cancel, a recorded line) keeps its earlier alarm.
    const next = Date.now() + step.afterMs;
    const pending = await this.ctx.storage.getAlarm();
    if (pending === null || pending > next) await this.ctx.storage.setAlarm(next);
  }

  async #step(batch: BatchRecord): Promise<RunnerStep> {
    const config = await loadWorkspaceConfig(this.env, batch.workspaceId);
    const runner = RUNNERS[batch.mode];
    if (!config || !runner) {
      const message = !config ? `Workspace "${batch.workspaceId}" has no configuration any more.` : `Batch mode "${batch.mode}" is not available.`;
      await transition(this.env.USAGE_DB, batch, ["validating", "in_progress", "finalizing", "cancelling"], "failed", { errors: [{ code: "batch_not_runnable", message, param: null, line: null }] });
      return { next: "done" };
    }
    const context = { env: this.env, batch, config, lines: () => this.#lines() };
    if (batch.status === "cancelling" && !(await this.ctx.storage.get("cancelSent"))) {
      const step = await runner.cancel(context);
      await this.ctx.storage.put("cancelSent", true);
      return step;
    }
    if (batch.status === "validating" && !(await this.ctx.storage.get("started"))) {
      // Marked only once the start went through: a start that threw is tried again by the next alarm.
      const step = await runner.start(context);
      await this.ctx.storage.put("started", true);
      return step;
    }
    return runner.poll(context);
  }

  async #forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#book = undefined;
  }
}
