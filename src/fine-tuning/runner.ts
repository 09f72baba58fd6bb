import * as z from "zod";
import type { GatewayConfig } from "../config/schema";
import { linesOf } from "../lib/jsonl";
import { openFileContent, requireFile } from "../files/store";
import { GatewayError } from "../lib/errors";
import { POLL_FIRST_MS, nextPoll, type DriverStep } from "../lib/poll-schedule";
import { Redactor } from "../lib/redact";
import { isRefusal, prepareTarget, providerCallOf, upstreamAccessFor, type PreparedTarget } from "../pipeline/upstream";
import type { ProviderCall } from "../providers/batch";
import type { DatasetRole, ProviderJobRef, ProviderJobState } from "../providers/fine-tuning";
import { sendUsageEvents } from "../usage/sender";
import { trainingUsageEvent } from "../usage/event";
import { convertLine, planJob, type PlannedJob } from "./create";
import { ACTIVE_STATUSES, isFinal, type JobError, type JobEvent, type JobRecord, type JobStatus } from "../schema/fine-tuning";
import { addEvents, eventId, registerTunedModel, transition, updateJob } from "./store";

/**
 * The steps of a fine-tuning job, driven by its Durable Object (durable-objects/fine-tuning-driver.ts), each step
 * picking up from the job's record in D1:
 *
 *   upload the datasets (converted line by line) → create the provider's job → poll it (status, events,
 *   checkpoints) → serve the tuned model where the provider needs a deployment → succeeded
 *
 * with `failed` (the provider's reason, redacted) and `cancelled` (a cancel passed on to the provider) on the way.
 * The provider's ids stay in the record's runner state. A succeeded job's model is registered for its workspace
 * before the job says so, so it is callable the moment the client sees `succeeded`.
 */

const RunnerStateSchema = z.object({
  uploads: z.object({ training: z.string().optional(), validation: z.string().optional() }).default({}),
  job: z.record(z.string(), z.string()).optional(),
  polls: z.number().int().default(0),
  /** The provider's last event already copied. */
  lastEvent: z.string().optional(),
  cancelSent: z.boolean().optional(),
  /** The provider's job succeeded: its model, being made callable. */
  tuned: z.object({ model: z.string(), trainedTokens: z.number().int().optional() }).optional(),
  serving: z.record(z.string(), z.string()).optional(),
});
type RunnerState = z.infer<typeof RunnerStateSchema>;

export type TuningContext = { env: Env; job: JobRecord; config: GatewayConfig };

type Provider = PlannedJob & { prepared: PreparedTarget; call: ProviderCall };

const stateOf = (job: JobRecord): RunnerState => RunnerStateSchema.parse(job.runnerState ?? {});

/** The job's provider made callable through the same credential resolution as chat requests, re-planned from its record. */
function providerOf(context: TuningContext): Provider {
  const { env, job, config } = context;
  const planned = planJob(config, { model: `${job.provider}/${job.baseModel}`, suffix: job.suffix, seed: job.seed }, job.method);
  const prepared = prepareTarget(upstreamAccessFor(env, job.workspaceId, config, new Redactor()), config.providers, planned.target);
  return { ...planned, prepared, call: providerCallOf(prepared) };
}

const at = () => Math.floor(Date.now() / 1000);

async function event(job: JobRecord, source: string, message: string, level: JobEvent["level"] = "info", data: unknown = null): Promise<JobEvent> {
  return { id: await eventId(job.id, source), createdAt: at(), level, type: "message", message, data };
}

/** The converted lines of one dataset, produced as they are uploaded. */
async function* datasetLines(env: Env, job: JobRecord, fileId: string, provider: Provider): AsyncGenerator<string> {
  const file = await requireFile(env, job.workspaceId, fileId);
  const refuse = (message: string) => new GatewayError({ status: 400, type: "invalid_request_error", code: "invalid_training_line", message });
  for await (const line of linesOf(await openFileContent(env, file))) {
    if (line.text.trim() !== "") yield `${convertLine(line.text, provider, refuse)}\n`;
  }
}

async function save(context: TuningContext, state: RunnerState): Promise<void> {
  await updateJob(context.env.USAGE_DB, context.job, { runnerState: state });
  context.job = { ...context.job, runnerState: state };
}

async function finish(context: TuningContext, to: "failed" | "cancelled", patch: { error?: JobError }, message: string): Promise<DriverStep> {
  const { env, job } = context;
  if (await transition(env.USAGE_DB, job, ACTIVE_STATUSES, to, { ...patch, finishedAt: at() })) {
    await addEvents(env.USAGE_DB, job, [await event(job, to, message, to === "failed" ? "error" : "info")]);
  }
  return { next: "done" };
}

const fail = (context: TuningContext, error: JobError) => finish(context, "failed", { error }, `The job failed: ${error.message}`);

/** The model is callable: it is registered for the workspace, its training is counted, then the job says so. */
async function succeed(context: TuningContext, provider: Provider, model: string, trainedTokens: number | undefined): Promise<DriverStep> {
  const { env, job, config } = context;
  await registerTunedModel(env.USAGE_DB, { providerType: job.providerType, model, workspaceId: job.workspaceId, jobId: job.id, baseModel: job.baseModel });
  if (trainedTokens !== undefined) await sendUsageEvents(env.USAGE_QUEUE, [trainingUsageEvent(config, { jobId: job.id, workspaceId: job.workspaceId, keyId: job.keyId, provider: job.provider, baseModel: job.baseModel, trainedTokens, time: Date.now() })]);
  if (await transition(env.USAGE_DB, job, ACTIVE_STATUSES, "succeeded", { fineTunedModel: model, trainedTokens: trainedTokens ?? null, finishedAt: at() })) {
    await addEvents(env.USAGE_DB, job, [
      await event(job, "model", `New fine-tuned model created: ${model} (call it as ${provider.target.provider}/${model})`),
      await event(job, "succeeded", "The job has successfully completed"),
    ]);
  }
  return { next: "done" };
}

const STATUS_MESSAGES: Partial<Record<JobStatus, string>> = { queued: "Job enqueued at the provider", running: "Fine-tuning job started" };

/** Records what a poll found: new provider events, a status change, checkpoints and estimates. */
async function record(context: TuningContext, provider: Provider, found: ProviderJobState, state: RunnerState): Promise<void> {
  const { env, job } = context;
  const events: JobEvent[] = [];
  const fresh = provider.api.events ? await provider.api.events(provider.prepared.upstream, provider.call, state.job!, state.lastEvent) : [];
  for (const e of fresh) events.push({ id: await eventId(job.id, `provider:${e.sourceId}`), createdAt: e.createdAt, level: e.level, type: e.type, message: provider.prepared.redactor.redact(e.message), data: e.data });
  if (fresh.length > 0) state.lastEvent = fresh.at(-1)!.sourceId;
  const active = found.status === "validating_files" || found.status === "queued" || found.status === "running";
  if (active && found.status !== job.status && (await transition(env.USAGE_DB, job, ACTIVE_STATUSES, found.status))) {
    const message = STATUS_MESSAGES[found.status];
    if (message) events.push(await event(job, `status:${found.status}`, message));
  }
  await addEvents(env.USAGE_DB, job, events);
  await updateJob(env.USAGE_DB, job, {
    runnerState: state,
    ...(found.checkpoints ? { checkpoints: found.checkpoints } : {}),
    ...(found.estimatedFinish !== undefined ? { estimatedFinish: found.estimatedFinish } : {}),
  });
}

async function upload(context: TuningContext, provider: Provider, state: RunnerState): Promise<void> {
  const { env, job } = context;
  const datasets: [DatasetRole, string | null][] = [["training", job.trainingFile], ["validation", job.validationFile]];
  for (const [role, fileId] of datasets) {
    if (fileId === null || state.uploads[role]) continue;
    state.uploads[role] = await provider.api.upload(provider.prepared.upstream, provider.call, role, datasetLines(env, job, fileId, provider), job.id);
    // Saved one dataset at a time: a step repeated after a crash uploads only what is missing.
    await save(context, state);
  }
  await addEvents(env.USAGE_DB, job, [await event(job, "uploaded", `Uploaded the converted datasets to ${job.provider}`)]);
}

async function serve(context: TuningContext, provider: Provider, state: RunnerState): Promise<DriverStep> {
  const tuned = state.tuned!;
  if (!provider.api.serve) return succeed(context, provider, tuned.model, tuned.trainedTokens);
  const step = await provider.api.serve(provider.prepared.upstream, provider.call, provider.plan, tuned.model, state.serving, context.job.id);
  if (step.ready) return succeed(context, provider, step.model, tuned.trainedTokens);
  if (!state.serving) await addEvents(context.env.USAGE_DB, context.job, [await event(context.job, "serving", `Deploying the tuned model at ${context.job.provider}`)]);
  state.serving = step.state;
  state.polls += 1;
  await save(context, state);
  return nextPoll(state.polls);
}

async function poll(context: TuningContext, provider: Provider, state: RunnerState): Promise<DriverStep> {
  const found = await provider.api.status(provider.prepared.upstream, provider.call, state.job!);
  state.polls += 1;
  await record(context, provider, found, state);
  switch (found.status) {
    case "succeeded":
      if (!found.tunedModel) throw new GatewayError({ status: 502, type: "upstream_error", message: `${context.job.provider}: the job succeeded without naming its model.` });
      state.tuned = { model: found.tunedModel, ...(found.trainedTokens !== undefined ? { trainedTokens: found.trainedTokens } : {}) };
      await save(context, state);
      return serve(context, provider, state);
    case "failed": {
      const error = found.error ?? { code: "provider_job_failed", message: "The provider's fine-tuning job failed.", param: null };
      return fail(context, { ...error, message: `${context.job.provider}: ${provider.prepared.redactor.redact(error.message)}` });
    }
    case "cancelled":
      return finish(context, "cancelled", {}, "The job was cancelled");
    default:
      return nextPoll(state.polls);
  }
}

/** One step of the job; a provider refusal (a 4xx) fails the job with the provider's reason. */
export async function runStep(context: TuningContext): Promise<DriverStep> {
  const { job } = context;
  if (isFinal(job.status)) return { next: "done" };
  let provider: Provider;
  try {
    provider = providerOf(context);
  } catch (error) {
    if (error instanceof GatewayError && error.status < 500) return fail(context, { code: "job_not_runnable", message: error.message, param: error.param });
    throw error;
  }
  const state = stateOf(job);
  try {
    if (job.cancelRequested) {
      if (!state.job) return finish(context, "cancelled", {}, "The job was cancelled before it reached the provider");
      if (!state.cancelSent) {
        await provider.api.cancel(provider.prepared.upstream, provider.call, state.job).catch((error: unknown) => {
          // A job that ended at the provider meanwhile cannot be cancelled: the poll below finds how it ended.
          if (!isRefusal(error)) throw error;
        });
        state.cancelSent = true;
        await save(context, state);
      }
    }
    if (state.tuned) return await serve(context, provider, state);
    if (state.job) return await poll(context, provider, state);
    await upload(context, provider, state);
    const ref: ProviderJobRef | null = await provider.api.create(provider.prepared.upstream, provider.call, provider.plan, provider.request, { training: state.uploads.training!, validation: state.uploads.validation ?? null }, job.id);
    if (ref === null) return { next: "poll", afterMs: POLL_FIRST_MS };
    state.job = ref;
    await save(context, state);
    await addEvents(context.env.USAGE_DB, job, [await event(job, "started", `Created the fine-tuning job at ${job.provider}`)]);
    return nextPoll(0);
  } catch (error) {
    if (isRefusal(error)) return fail(context, { code: error.code ?? "provider_refused", message: error.message, param: error.param });
    throw error;
  }
}
