import * as z from "zod";
import type { ProviderConfig } from "../../config/schema";
import { LineProblem, type TrainingExample } from "../../schema/training-example";
import type { JobStatus, MethodType } from "../../schema/fine-tuning";
import { badRequest } from "../../lib/errors";
import type { ProviderCall } from "../batch";
import type { ProviderEvent, ProviderJobState, ProviderTuningApi, TuningPlan, TuningRequest } from "../fine-tuning";
import { jsonRequest, readJson } from "../http";
import type { UpstreamTarget } from "../types";
import { ProviderFileSchema, uploadFile } from "./files";

/**
 * OpenAI's fine-tuning API (also Azure OpenAI's, at its own URLs): the dataset is OpenAI's own format, so lines
 * are checked and passed on as the client wrote them; the job, its events and checkpoints are OpenAI's objects.
 */

/** A model this provider tunes: by which methods, and whether it is a prompt/completion model. */
export type TunableModel = { snapshot: string; methods: readonly MethodType[]; completion?: true };

const SFT = ["supervised"] as const;
const SFT_DPO = ["supervised", "dpo"] as const;

/** https://platform.openai.com/docs/guides/supervised-fine-tuning (read 2026-12-01): names and snapshots. */
export const OPENAI_TUNABLE: Readonly<Record<string, TunableModel>> = {
  "gpt-4.1": { snapshot: "gpt-4.1-2025-04-14", methods: SFT_DPO },
  "gpt-4.1-2025-04-14": { snapshot: "gpt-4.1-2025-04-14", methods: SFT_DPO },
  "gpt-4.1-mini": { snapshot: "gpt-4.1-mini-2025-04-14", methods: SFT_DPO },
  "gpt-4.1-mini-2025-04-14": { snapshot: "gpt-4.1-mini-2025-04-14", methods: SFT_DPO },
  "gpt-4.1-nano": { snapshot: "gpt-4.1-nano-2025-04-14", methods: SFT_DPO },
  "gpt-4.1-nano-2025-04-14": { snapshot: "gpt-4.1-nano-2025-04-14", methods: SFT_DPO },
  "gpt-4o": { snapshot: "gpt-4o-2024-08-06", methods: SFT_DPO },
  "gpt-4o-2024-08-06": { snapshot: "gpt-4o-2024-08-06", methods: SFT_DPO },
  "gpt-4o-mini": { snapshot: "gpt-4o-mini-2024-07-18", methods: SFT_DPO },
  "gpt-4o-mini-2024-07-18": { snapshot: "gpt-4o-mini-2024-07-18", methods: SFT_DPO },
  "gpt-3.5-turbo": { snapshot: "gpt-3.5-turbo-0125", methods: SFT },
  "gpt-3.5-turbo-0125": { snapshot: "gpt-3.5-turbo-0125", methods: SFT },
  "babbage-002": { snapshot: "babbage-002", methods: SFT, completion: true },
  "davinci-002": { snapshot: "davinci-002", methods: SFT, completion: true },
};

/** https://learn.microsoft.com/azure/ai-foundry/openai/how-to/fine-tuning (read 2026-12-01): Azure's model names. */
export const AZURE_TUNABLE: Readonly<Record<string, TunableModel>> = {
  "gpt-4.1-2025-04-14": { snapshot: "gpt-4.1-2025-04-14", methods: SFT_DPO },
  "gpt-4.1-mini-2025-04-14": { snapshot: "gpt-4.1-mini-2025-04-14", methods: SFT_DPO },
  "gpt-4.1-nano-2025-04-14": { snapshot: "gpt-4.1-nano-2025-04-14", methods: SFT_DPO },
  "gpt-4o-2024-08-06": { snapshot: "gpt-4o-2024-08-06", methods: SFT_DPO },
  "gpt-4o-mini-2024-07-18": { snapshot: "gpt-4o-mini-2024-07-18", methods: SFT_DPO },
  "gpt-35-turbo-0125": { snapshot: "gpt-35-turbo-0125", methods: SFT },
  "gpt-35-turbo-1106": { snapshot: "gpt-35-turbo-1106", methods: SFT },
};

/** Roles OpenAI's training format takes (no `developer`: its fine-tuning format predates it). */
const TRAINING_ROLES = new Set(["system", "user", "assistant", "tool"]);

/** Checks a line against OpenAI's format and passes it on as written. */
export function convertForOpenAI(example: TrainingExample): unknown {
  const messages = example.kind === "chat" ? example.raw.messages : example.kind === "preference" ? (example.raw.input as { messages: unknown }).messages : undefined;
  const at = example.kind === "preference" ? "input.messages" : "messages";
  if (Array.isArray(messages)) {
    messages.forEach((message: { role?: unknown }, index) => {
      if (!TRAINING_ROLES.has(String(message.role))) throw new LineProblem(`${at}[${index}].role`, `role "${String(message.role)}" is not in OpenAI's training format (system, user, assistant, tool)`);
    });
  }
  return example.raw;
}

/** The tunable model this request names, or a 400 naming `model` (or `method.type`). */
export function tunableModel(table: Readonly<Record<string, TunableModel>>, providerName: string, request: TuningRequest, continued: RegExp): TunableModel {
  if (continued.test(request.model)) return { snapshot: request.model, methods: SFT };
  const tunable = table[request.model];
  if (!tunable) {
    throw badRequest(`Provider "${providerName}" cannot fine-tune "${request.model}". Models it tunes: ${[...new Set(Object.values(table).map((t) => t.snapshot))].join(", ")}.`, "model", "model_not_tunable");
  }
  if (!tunable.methods.includes(request.method)) throw badRequest(`"${request.model}" cannot be tuned with method "${request.method}" on provider "${providerName}" (it takes ${tunable.methods.join(", ")}).`, "method.type", "method_not_supported");
  return tunable;
}

export type OpenAIStyleTuningShape<C extends ProviderConfig> = {
  /** The URL of an API path (`/files`, `/fine_tuning/jobs/{id}`), query string included. */
  url(target: UpstreamTarget<C>, path: string, query?: Record<string, string>): string;
  headers(target: UpstreamTarget<C>): Promise<Record<string, string>>;
  tunable: Readonly<Record<string, TunableModel>>;
  /** Ids of the tuned models it makes (and continued fine-tuning starts from). */
  tunedModelPattern: RegExp;
  /** The create body's hyperparameters: OpenAI takes `method`; Azure's GA API the top-level `hyperparameters`. */
  methodFields(request: TuningRequest): Record<string, unknown>;
  /** Tags the job with the gateway's id, where the provider keeps metadata. */
  metadata: boolean;
};

const JobObjectSchema = z.object({
  id: z.string(),
  status: z.string(),
  fine_tuned_model: z.string().nullish(),
  trained_tokens: z.number().nullish(),
  estimated_finish: z.number().nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish(), param: z.string().nullish() }).nullish(),
});
const EventListSchema = z.object({
  data: z.array(z.object({ id: z.string(), created_at: z.number(), level: z.string().nullish(), message: z.string(), type: z.string().nullish(), data: z.unknown().nullish() })),
  has_more: z.boolean().nullish(),
});
const CheckpointListSchema = z.object({
  data: z.array(z.object({ id: z.string(), created_at: z.number(), fine_tuned_model_checkpoint: z.string(), step_number: z.number(), metrics: z.record(z.string(), z.number().nullish()).nullish() })),
});

const STATUSES: Record<string, JobStatus> = {
  validating_files: "validating_files",
  queued: "queued",
  pending: "queued",
  created: "queued",
  notRunning: "queued",
  running: "running",
  paused: "running",
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
};

/** Events read per poll at most (100 a page): a job's metrics events arrive a few per step. */
const MAX_EVENT_PAGES = 10;

export function openAIStyleTuningApi<C extends ProviderConfig>(shape: OpenAIStyleTuningShape<C>): ProviderTuningApi<C> {
  const get = async (target: UpstreamTarget<C>, call: ProviderCall, path: string, query?: Record<string, string>) => call(new Request(shape.url(target, path, query), { headers: await shape.headers(target) }));
  const jobPath = (id: string) => `/fine_tuning/jobs/${encodeURIComponent(id)}`;

  return {
    tunedModelPattern: shape.tunedModelPattern,
    plan(_config, request, providerName): TuningPlan {
      const tunable = tunableModel(shape.tunable, providerName, request, shape.tunedModelPattern);
      return { baseModel: tunable.snapshot, kinds: request.method === "dpo" ? ["preference"] : tunable.completion ? ["completion"] : ["chat"], format: "openai" };
    },
    convert: convertForOpenAI,
    async upload(target, call, role, lines, label) {
      const file = await uploadFile(call, target.providerName, shape.url(target, "/files"), await shape.headers(target), lines, `${label}-${role}.jsonl`, "fine-tune");
      return file.id;
    },
    async create(target, call, plan, request, datasets, label) {
      // Azure imports an uploaded file before a job may use it; OpenAI's are ready at once.
      for (const id of [datasets.training, datasets.validation]) {
        if (id === null) continue;
        const file = await readJson(await get(target, call, `/files/${encodeURIComponent(id)}`), ProviderFileSchema, target.providerName, "file object");
        if (file.status === "error") throw badRequest(`${target.providerName} could not import the dataset: ${file.status_details ?? "the file was refused"}`, "training_file", "invalid_training_file");
        if (file.status && file.status !== "processed") return null;
      }
      const body = {
        model: plan.baseModel,
        training_file: datasets.training,
        ...(datasets.validation ? { validation_file: datasets.validation } : {}),
        ...shape.methodFields(request),
        ...(request.suffix ? { suffix: request.suffix } : {}),
        ...(request.seed !== null ? { seed: request.seed } : {}),
        ...(shape.metadata ? { metadata: { switchyard_job: label } } : {}),
      };
      const created = await call(jsonRequest(shape.url(target, "/fine_tuning/jobs"), await shape.headers(target), body));
      const job = await readJson(created, JobObjectSchema, target.providerName, "fine-tuning job");
      return { jobId: job.id, trainingFile: datasets.training, ...(datasets.validation ? { validationFile: datasets.validation } : {}) };
    },
    async status(target, call, ref): Promise<ProviderJobState> {
      const job = await readJson(await get(target, call, jobPath(ref.jobId!)), JobObjectSchema, target.providerName, "fine-tuning job");
      const status = STATUSES[job.status] ?? "running";
      const state: ProviderJobState = { status };
      if (job.fine_tuned_model) state.tunedModel = job.fine_tuned_model;
      if (typeof job.trained_tokens === "number") state.trainedTokens = job.trained_tokens;
      if (job.estimated_finish) state.estimatedFinish = job.estimated_finish;
      if (status === "failed") state.error = { code: job.error?.code ?? "provider_job_failed", message: job.error?.message ?? "The provider's fine-tuning job failed.", param: job.error?.param ?? null };
      if (status === "running" || status === "succeeded") {
        const list = await readJson(await get(target, call, `${jobPath(ref.jobId!)}/checkpoints`, { limit: "100" }), CheckpointListSchema, target.providerName, "checkpoint list");
        state.checkpoints = list.data.map((c) => ({
          id: c.id,
          createdAt: c.created_at,
          model: c.fine_tuned_model_checkpoint,
          step: c.step_number,
          metrics: Object.fromEntries(Object.entries(c.metrics ?? {}).filter((e): e is [string, number] => typeof e[1] === "number")),
        }));
      }
      return state;
    },
    async events(target, call, ref, after) {
      const fresh: ProviderEvent[] = [];
      let cursor: string | undefined;
      // Newest first: read back until the last event already seen.
      for (let page = 0; page < MAX_EVENT_PAGES; page++) {
        const list = await readJson(await get(target, call, `${jobPath(ref.jobId!)}/events`, { limit: "100", ...(cursor ? { after: cursor } : {}) }), EventListSchema, target.providerName, "event list");
        let reachedSeen = false;
        for (const event of list.data) {
          if (event.id === after) {
            reachedSeen = true;
            break;
          }
          const level = event.level === "warn" || event.level === "error" ? event.level : "info";
          fresh.push({ sourceId: event.id, createdAt: event.created_at, level, type: event.type === "metrics" ? "metrics" : "message", message: event.message, data: event.data ?? null });
        }
        if (reachedSeen || !list.has_more || list.data.length === 0) break;
        cursor = list.data.at(-1)!.id;
      }
      return fresh.reverse();
    },
    async cancel(target, call, ref) {
      await call(new Request(shape.url(target, `${jobPath(ref.jobId!)}/cancel`), { method: "POST", headers: await shape.headers(target) }));
    },
  };
}

/** The hyperparameters the client set (those left out are the provider's to choose). */
export const givenHyperparameters = (request: TuningRequest): Record<string, number | "auto"> =>
  Object.fromEntries(Object.entries(request.hyperparameters).filter((entry): entry is [string, number | "auto"] => entry[1] !== undefined));

/** OpenAI's `method` object, as the client's job asked for it. */
export const methodObject = (request: TuningRequest) =>
  request.method === "dpo" ? { type: "dpo", dpo: { hyperparameters: givenHyperparameters(request) } } : { type: "supervised", supervised: { hyperparameters: givenHyperparameters(request) } };

type OpenAIConfig = Extract<ProviderConfig, { type: "openai" }>;

export const openAITuningApi = openAIStyleTuningApi<OpenAIConfig>({
  url: (target, path, query) => `${target.config.baseURL}${path}${query ? `?${new URLSearchParams(query).toString()}` : ""}`,
  async headers(target) {
    const headers: Record<string, string> = { authorization: `Bearer ${await target.secret(target.config.apiKey)}` };
    if (target.config.organization) headers["openai-organization"] = target.config.organization;
    if (target.config.project) headers["openai-project"] = target.config.project;
    return headers;
  },
  tunable: OPENAI_TUNABLE,
  tunedModelPattern: /^ft:/,
  methodFields: (request) => ({ method: methodObject(request) }),
  metadata: true,
});
