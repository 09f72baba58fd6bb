import { DurableObject } from "cloudflare:workers";
import type * as z from "zod";
import type { DriverStep } from "../src/lib/poll-schedule";

export type { DriverStep };

/** An alarm that throws is retried with backoff; past this many failed steps in a row the work is given up. */
export const MAX_FAILED_ALARMS = 8;
const RETRY_AFTER_FAILURE_MS = 30_000;

/**
 * A Durable Object that drives one long-running piece of work at a provider (a batch, a fine-tuning job) from
 * alarms: `begin` records what it drives and runs the first step at once, every step says when the next one runs,
 * `wake` runs the next step now (a cancel). The work's state lives in D1, so the object keeps only its reference
 * and the marks its steps set (`mark`/`marked`); a restart loses nothing. A step that throws is retried with
 * backoff; after MAX_FAILED_ALARMS in a row, `giveUp` ends the work with the reason. Storage: the reference (under
 * `refKey`), `failedAlarms` and the marks, all deleted once the work is final.
 */
export abstract class AlarmDriver<Ref> extends DurableObject<Env> {
  protected abstract readonly refSchema: z.ZodType<Ref>;
  /** The storage key of the reference. */
  protected readonly refKey: string = "ref";
  /** What the work is called in logs (`batch`, `fine-tuning job`). */
  protected abstract readonly kind: string;
  /** One step of the work. */
  protected abstract step(ref: Ref): Promise<DriverStep>;
  /** Ends the work after its steps kept failing. */
  protected abstract giveUp(ref: Ref, message: string): Promise<void>;

  /** Records the work and runs its first step right away. */
  async begin(ref: Ref): Promise<void> {
    await this.ctx.storage.put(this.refKey, this.refSchema.parse(ref));
    await this.ctx.storage.setAlarm(Date.now());
  }

  /** Runs the next step now rather than at the next poll (a cancel to pass on). */
  async wake(): Promise<void> {
    if (await this.ctx.storage.get(this.refKey)) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const ref = this.refSchema.safeParse(await this.ctx.storage.get(this.refKey));
    if (!ref.success) return;
    let step: DriverStep;
    try {
      step = await this.step(ref.data);
      await this.ctx.storage.put("failedAlarms", 0);
    } catch (error) {
      const failures = ((await this.ctx.storage.get<number>("failedAlarms")) ?? 0) + 1;
      await this.ctx.storage.put("failedAlarms", failures);
      const reason = error instanceof Error ? error.message : String(error);
      console.error(JSON.stringify({ level: "error", message: `${this.kind} step failed`, ref: ref.data, failures, error: reason }));
      if (failures < MAX_FAILED_ALARMS) return this.ctx.storage.setAlarm(Date.now() + RETRY_AFTER_FAILURE_MS * failures);
      await this.giveUp(ref.data, `The ${this.kind} could not be driven after ${failures} attempts: ${reason}`);
      return this.forget();
    }
    if (step.next === "done") return this.forget();
    // A wake that arrived while this step ran (a cancel, a recorded line) keeps its earlier alarm.
    const next = Date.now() + step.afterMs;
    const pending = await this.ctx.storage.getAlarm();
    if (pending === null || pending > next) await this.ctx.storage.setAlarm(next);
  }

  /** Whether a step set this mark (a start that went through, a cancel that was sent). */
  protected async marked(name: string): Promise<boolean> {
    return (await this.ctx.storage.get(name)) === true;
  }

  protected async mark(name: string): Promise<void> {
    await this.ctx.storage.put(name, true);
  }

  protected async forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }
}
