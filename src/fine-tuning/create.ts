import * as z from "zod";
import type { GatewayConfig, ProviderConfig, Target } from "../config/schema";
import { linesOf, LineTooLongError, NotUtf8Error } from "../lib/jsonl";
import type { FileRecord } from "../files/schema";
import { openFileContent, requireFile } from "../files/store";
import { GatewayError, badRequest } from "../lib/errors";
import type { KeyRecord } from "../policy/keys";
import type { ProviderTuningApi, TuningPlan, TuningRequest } from "../providers/fine-tuning";
import { tuningApiFor } from "../providers/fine-tuning-registry";
import { resolveModel } from "../routing/resolve";
import { isRouteRef } from "../routing/schema";
import { parseExample } from "./dataset";
import { LineProblem } from "../schema/training-example";
import { HyperparametersSchema, MethodSchema, hyperparametersOf, type JobRecord, type Method } from "../schema/fine-tuning";
import { addEvents, eventId, insertJob, newJobId } from "./store";

/**
 * Creating a fine-tuning job (POST /v1/fine_tuning/jobs). Everything is checked before anything is recorded or
 * uploaded: the model resolves to one provider target whose fine-tuning API can tune it with this config; the
 * files are the workspace's own, of purpose `fine-tune`; every line of them is a valid example that the provider's
 * converter accepts. Only then is the job recorded (`validating_files`) and its driver woken; the upload happens
 * there.
 */

/** OpenAI's metadata: at most 16 pairs, keys up to 64 and values up to 512 characters. */
const MetadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((metadata) => Object.keys(metadata).length <= 16, "at most 16 metadata pairs");

export const CreateJobSchema = z.strictObject({
  model: z.string().min(1),
  training_file: z.string().min(1),
  validation_file: z.string().min(1).nullish(),
  hyperparameters: HyperparametersSchema.optional(),
  method: MethodSchema.optional(),
  suffix: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "up to 64 letters, digits, _ or -").nullish(),
  seed: z.number().int().min(0).max(2_147_483_647).nullish(),
  metadata: MetadataSchema.nullish(),
  integrations: z.array(z.unknown()).max(0, "integrations (Weights and Biases) are not relayed by this gateway").nullish(),
});
export type CreateJobInput = z.infer<typeof CreateJobSchema>;

export type JobCaller = { env: Env; workspaceId: string; config: GatewayConfig; key: KeyRecord };

/** The method the job runs: `method`, or the deprecated top-level `hyperparameters` as a supervised job. */
function methodOf(input: CreateJobInput): Method {
  if (input.method && input.hyperparameters) throw badRequest("Give hyperparameters inside `method`, not both `method` and the deprecated top-level `hyperparameters`.", "hyperparameters", "invalid_value");
  return input.method ?? { type: "supervised", supervised: { hyperparameters: input.hyperparameters ?? {} } };
}

/** The one provider target a job's model names: `provider/model`, or a route with a single provider target. */
function targetOf(config: GatewayConfig, model: string): Target {
  const resolved = resolveModel(config, model);
  if (resolved.kind === "direct") return resolved.target;
  const route = resolved.route;
  if (route.strategy === "single" && !isRouteRef(route.target)) return { provider: route.target.provider, model: route.target.model };
  throw badRequest(`Route "${resolved.name}" (${route.strategy}) has no single provider target to tune; name one as "provider/model".`, "model", "model_not_tunable");
}

export type PlannedJob = { target: Target; provider: ProviderConfig; api: ProviderTuningApi; plan: TuningPlan; request: TuningRequest };

/** The provider's decision on this job, or a 400 naming the field (pure apart from the config it reads). */
export function planJob(config: GatewayConfig, input: Pick<CreateJobInput, "model" | "suffix" | "seed">, method: Method): PlannedJob {
  const target = targetOf(config, input.model);
  const provider = config.providers[target.provider]!;
  const api = tuningApiFor(provider);
  if (!api) throw badRequest(`Provider "${target.provider}" (${provider.type}) has no fine-tuning API this gateway drives (openai, azure, vertex, bedrock).`, "model", "fine_tuning_unsupported");
  const request: TuningRequest = { model: target.model, method: method.type, hyperparameters: hyperparametersOf(method), suffix: input.suffix ?? null, seed: input.seed ?? null };
  return { target, provider, api, plan: api.plan(provider, request, target.provider), request };
}

/** A 400 naming the file's parameter and the line. */
const lineRefusal = (param: string, line: number, message: string) =>
  new GatewayError({ status: 400, type: "invalid_request_error", code: "invalid_training_line", param, message: `${param} line ${line}: ${message}` });

/**
 * Reads a dataset once (streamed) and checks every line for this provider and model; returns how many examples it
 * holds. Throws a 400 naming the line and the field.
 */
export async function checkDataset(env: Env, file: FileRecord, param: string, job: Pick<PlannedJob, "api" | "plan">): Promise<number> {
  let examples = 0;
  try {
    for await (const line of linesOf(await openFileContent(env, file))) {
      if (line.text.trim() === "") continue;
      convertLine(line.text, job, (message) => lineRefusal(param, line.number, message));
      examples++;
    }
  } catch (error) {
    if (error instanceof LineTooLongError || error instanceof NotUtf8Error) throw lineRefusal(param, error.lineNumber, error.message);
    throw error;
  }
  if (examples === 0) throw badRequest(`${param}: the file ${file.id} holds no examples.`, param, "empty_file");
  return examples;
}

/** One line as the provider's dataset line (JSON text); `refuse` makes the error for a problem. */
export function convertLine(text: string, job: Pick<PlannedJob, "api" | "plan">, refuse: (message: string) => GatewayError): string {
  try {
    const example = parseExample(text);
    if (!job.plan.kinds.includes(example.kind)) {
      throw new LineProblem(null, `a ${example.kind} example, but this job trains on ${job.plan.kinds.join(" or ")} examples (${describeKinds(job.plan.kinds)})`);
    }
    return JSON.stringify(job.api.convert(example, job.plan));
  } catch (error) {
    if (error instanceof LineProblem) throw refuse(error.field ? `${error.field}: ${error.message}` : error.message);
    throw error;
  }
}

const KIND_SHAPES = { chat: '{"messages": [...]}', preference: '{"input", "preferred_output", "non_preferred_output"}', completion: '{"prompt", "completion"}' } as const;
const describeKinds = (kinds: TuningPlan["kinds"]) => kinds.map((k) => KIND_SHAPES[k]).join(" or ");

/**
 * A dataset named by the job: the workspace's own file of purpose `fine-tune`. A file id this workspace has no file
 * for (another workspace's included, indistinguishably) is bad input to this call, so a 400 naming the parameter,
 * as OpenAI answers; GET /v1/files/{id} keeps its 404.
 */
async function datasetFile(env: Env, workspaceId: string, fileId: string, param: "training_file" | "validation_file"): Promise<FileRecord> {
  try {
    return await requireFile(env, workspaceId, fileId, { purpose: "fine-tune", param });
  } catch (error) {
    if (error instanceof GatewayError && error.status === 404) throw badRequest(`${param}: no file ${fileId} in this workspace.`, param, "file_not_found");
    throw error;
  }
}

export async function createJob(caller: JobCaller, input: CreateJobInput): Promise<JobRecord> {
  const { env, workspaceId, config, key } = caller;
  if (key.routes && !key.routes.includes(input.model)) {
    throw new GatewayError({ status: 403, type: "permission_error", code: "model_not_allowed", param: "model", message: `This key may only use the routes ${key.routes.map((r) => `"${r}"`).join(", ")}; "${input.model}" is not one of them.` });
  }
  const method = methodOf(input);
  const planned = planJob(config, input, method);
  const training = await datasetFile(env, workspaceId, input.training_file, "training_file");
  const validation = input.validation_file ? await datasetFile(env, workspaceId, input.validation_file, "validation_file") : null;
  const trainingExamples = await checkDataset(env, training, "training_file", planned);
  const validationExamples = validation ? await checkDataset(env, validation, "validation_file", planned) : 0;

  const now = Math.floor(Date.now() / 1000);
  const job: JobRecord = {
    id: newJobId(),
    workspaceId,
    keyId: key.id,
    provider: planned.target.provider,
    providerType: planned.provider.type,
    model: input.model,
    baseModel: planned.plan.baseModel,
    trainingFile: training.id,
    validationFile: validation?.id ?? null,
    method,
    suffix: input.suffix ?? null,
    seed: input.seed ?? null,
    metadata: input.metadata ?? null,
    status: "validating_files",
    fineTunedModel: null,
    trainedTokens: null,
    error: null,
    checkpoints: null,
    runnerState: null,
    cancelRequested: false,
    createdAt: now,
    finishedAt: null,
    estimatedFinish: null,
  };
  await insertJob(env.USAGE_DB, job);
  const checked = validation ? `${trainingExamples} training and ${validationExamples} validation examples` : `${trainingExamples} training examples`;
  await addEvents(env.USAGE_DB, job, [
    { id: await eventId(job.id, "created"), createdAt: now, level: "info", type: "message", message: `Created fine-tuning job: ${job.id}`, data: null },
    { id: await eventId(job.id, "checked"), createdAt: now, level: "info", type: "message", message: `Validated ${checked} for ${planned.target.provider}/${planned.plan.baseModel}`, data: { training_examples: trainingExamples, validation_examples: validationExamples } },
  ]);
  try {
    await env.FINE_TUNING_DRIVER.getByName(job.id).begin({ workspaceId, jobId: job.id });
  } catch (error) {
    await env.USAGE_DB.prepare("DELETE FROM fine_tuning_jobs WHERE workspace_id = ? AND id = ?").bind(workspaceId, job.id).run();
    throw error;
  }
  return job;
}
