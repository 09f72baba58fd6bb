import * as z from "zod";
import { loadWorkspaceConfig } from "../src/config/store";
import { runStep } from "../src/fine-tuning/runner";
import { ACTIVE_STATUSES, isFinal } from "../src/schema/fine-tuning";
import { findJob, transition } from "../src/fine-tuning/store";
import { AlarmDriver, type DriverStep } from "./alarm-driver";

const JobRefSchema = z.object({ workspaceId: z.string().min(1), jobId: z.string().min(1) });
export type JobRef = z.infer<typeof JobRefSchema>;

/**
 * Drives one fine-tuning job (named by its id) through src/fine-tuning/runner.ts: upload, create, poll, serve.
 * The job lives in D1; each step picks up from its record and runner state, so this object keeps only the ref.
 */
export class FineTuningDriver extends AlarmDriver<JobRef> {
  protected readonly refSchema = JobRefSchema;
  protected readonly kind = "fine-tuning job";

  protected async step(ref: JobRef): Promise<DriverStep> {
    const job = await findJob(this.env.USAGE_DB, ref.workspaceId, ref.jobId);
    if (!job || isFinal(job.status)) return { next: "done" };
    const config = await loadWorkspaceConfig(this.env, job.workspaceId);
    if (!config) {
      await this.giveUp(ref, `Workspace "${job.workspaceId}" has no configuration any more.`);
      return { next: "done" };
    }
    return runStep({ env: this.env, job, config });
  }

  protected async giveUp(ref: JobRef, message: string): Promise<void> {
    const job = { id: ref.jobId, workspaceId: ref.workspaceId };
    await transition(this.env.USAGE_DB, job, ACTIVE_STATUSES, "failed", { error: { code: "job_driver_failed", message, param: null }, finishedAt: Math.floor(Date.now() / 1000) });
  }
}
