import * as z from "zod";
import type { JobStatus } from "../../schema/fine-tuning";
import { badRequest } from "../../lib/errors";
import type { ProviderCall } from "../batch";
import type { ProviderJobState, ProviderTuningApi } from "../fine-tuning";
import { jsonRequest, readJson } from "../http";
import type { UpstreamTarget } from "../types";
import { vertexAuthorization } from "./auth";
import { TUNED_ENDPOINT, originOf, type VertexConfig } from "./chat";
import { uploadLines } from "./storage";
import { toVertexTuningLine } from "./tuning-dataset";

/**
 * Vertex AI supervised tuning of Gemini models (`tuningJobs`): the converted dataset is written to the provider's
 * `tuningBucket` (else `batchBucket`) in Cloud Storage, a tuning job reads it, and the tuned model is served at the
 * endpoint the job creates — callable as `vertex/<endpoint resource name>` at once.
 * https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-use-supervised-tuning (read 2026-12-01)
 */

/** Base models Vertex AI tunes, by the names clients use: the id the tuning job takes. */
export const VERTEX_TUNABLE: Readonly<Record<string, string>> = {
  "gemini-2.5-pro": "gemini-2.5-pro",
  "gemini-2.5-flash": "gemini-2.5-flash",
  "gemini-2.5-flash-lite": "gemini-2.5-flash-lite",
  "gemini-2.0-flash": "gemini-2.0-flash-001",
  "gemini-2.0-flash-001": "gemini-2.0-flash-001",
  "gemini-2.0-flash-lite": "gemini-2.0-flash-lite-001",
  "gemini-2.0-flash-lite-001": "gemini-2.0-flash-lite-001",
};


const bucketOf = (config: VertexConfig) => config.tuningBucket ?? config.batchBucket;

const Int = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);
const TuningJobSchema = z
  .object({
    name: z.string(),
    state: z.string().optional(),
    updateTime: z.string().optional(),
    error: z.object({ code: z.number().optional(), message: z.string().optional() }).loose().optional(),
    tunedModel: z
      .object({
        model: z.string().optional(),
        endpoint: z.string().optional(),
        checkpoints: z.array(z.object({ checkpointId: z.string(), epoch: Int.optional(), step: Int.optional(), endpoint: z.string().optional() }).loose()).optional(),
      })
      .loose()
      .optional(),
    supervisedTuningSpec: z.object({ hyperParameters: z.object({ epochCount: Int.optional() }).loose().optional() }).loose().optional(),
    tuningDataStats: z.object({ supervisedTuningDataStats: z.object({ totalBillableTokenCount: Int.optional() }).loose().optional() }).loose().optional(),
  })
  .loose();

const STATES: Record<string, JobStatus> = {
  JOB_STATE_QUEUED: "queued",
  JOB_STATE_PENDING: "queued",
  JOB_STATE_RUNNING: "running",
  JOB_STATE_CANCELLING: "running",
  JOB_STATE_PAUSED: "running",
  JOB_STATE_UPDATING: "running",
  JOB_STATE_SUCCEEDED: "succeeded",
  JOB_STATE_FAILED: "failed",
  JOB_STATE_EXPIRED: "failed",
  JOB_STATE_CANCELLED: "cancelled",
};

const tuningJobsURL = (config: VertexConfig) => `${originOf(config)}/v1/projects/${encodeURIComponent(config.project)}/locations/${encodeURIComponent(config.location)}/tuningJobs`;

async function tuningJob(target: UpstreamTarget<VertexConfig>, call: ProviderCall, name: string) {
  const response = await call(new Request(`${originOf(target.config)}/v1/${name}`, { headers: await vertexAuthorization(target) }));
  return readJson(response, TuningJobSchema, target.providerName, "tuning job");
}

/** A checkpoint's metrics: Vertex reports the epoch it was taken at. */
const metricsOf = (epoch: number | undefined): Record<string, number> => (epoch === undefined ? {} : { epoch });

export const vertexTuningApi: ProviderTuningApi<VertexConfig> = {
  tunedModelPattern: TUNED_ENDPOINT,
  plan(config, request, providerName) {
    const baseModel = VERTEX_TUNABLE[request.model];
    if (!baseModel) throw badRequest(`Provider "${providerName}" (Vertex AI) cannot tune "${request.model}". Models it tunes: ${[...new Set(Object.values(VERTEX_TUNABLE))].join(", ")}.`, "model", "model_not_tunable");
    if (request.method !== "supervised") throw badRequest(`Vertex AI tunes with method "supervised" only through this gateway.`, "method.type", "method_not_supported");
    if (request.hyperparameters.batch_size !== undefined && request.hyperparameters.batch_size !== "auto") {
      throw badRequest("Vertex AI's supervised tuning has no batch size setting (it takes n_epochs and learning_rate_multiplier).", "method.supervised.hyperparameters.batch_size", "hyperparameter_not_supported");
    }
    if (!bucketOf(config)) throw badRequest(`Provider "${providerName}" has no Cloud Storage bucket for tuning datasets: set its "tuningBucket" (or "batchBucket").`, "model", "missing_bucket_setting");
    return { baseModel, kinds: ["chat"], format: "vertex-gemini" };
  },
  convert: (example, plan) => toVertexTuningLine(example, plan.baseModel),
  async upload(target, call, role, lines, label) {
    const bucket = bucketOf(target.config)!;
    const name = `switchyard/tuning/${label}/${role}.jsonl`;
    await uploadLines(target, call, bucket, name, lines);
    return `gs://${bucket}/${name}`;
  },
  async create(target, call, plan, request, datasets, label) {
    const { n_epochs: epochs, learning_rate_multiplier: multiplier } = request.hyperparameters;
    const hyperParameters = { ...(typeof epochs === "number" ? { epochCount: epochs } : {}), ...(typeof multiplier === "number" ? { learningRateMultiplier: multiplier } : {}) };
    const body = {
      baseModel: plan.baseModel,
      supervisedTuningSpec: { trainingDatasetUri: datasets.training, ...(datasets.validation ? { validationDatasetUri: datasets.validation } : {}), ...(Object.keys(hyperParameters).length ? { hyperParameters } : {}) },
      tunedModelDisplayName: request.suffix ?? label,
      description: `switchyard ${label}`,
    };
    const created = await call(jsonRequest(tuningJobsURL(target.config), await vertexAuthorization(target), body));
    const job = await readJson(created, TuningJobSchema, target.providerName, "tuning job");
    return { jobName: job.name };
  },
  async status(target, call, ref): Promise<ProviderJobState> {
    const job = await tuningJob(target, call, ref.jobName!);
    const status = STATES[job.state ?? ""] ?? "queued";
    const state: ProviderJobState = { status };
    if (job.tunedModel?.endpoint) state.tunedModel = job.tunedModel.endpoint;
    // Vertex reports the dataset's billable tokens; it bills them once per epoch.
    const tokens = job.tuningDataStats?.supervisedTuningDataStats?.totalBillableTokenCount;
    const epochs = job.supervisedTuningSpec?.hyperParameters?.epochCount;
    if (tokens !== undefined && epochs !== undefined) state.trainedTokens = tokens * epochs;
    if (status === "failed") state.error = { code: "provider_job_failed", message: job.error?.message ?? `the tuning job ended ${job.state}`, param: null };
    const updated = job.updateTime ? Math.floor(Date.parse(job.updateTime) / 1000) : Math.floor(Date.now() / 1000);
    const checkpoints = job.tunedModel?.checkpoints?.filter((c) => c.endpoint) ?? [];
    if (checkpoints.length > 0) {
      state.checkpoints = checkpoints.map((c) => ({ id: `ckpt-${c.checkpointId}`, createdAt: updated, model: c.endpoint!, step: c.step ?? 0, metrics: metricsOf(c.epoch) }));
    }
    return state;
  },
  async cancel(target, call, ref) {
    await call(new Request(`${originOf(target.config)}/v1/${ref.jobName!}:cancel`, { method: "POST", headers: await vertexAuthorization(target) }));
  },
};
