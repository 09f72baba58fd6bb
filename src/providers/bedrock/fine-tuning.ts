import * as z from "zod";
import type { JobStatus } from "../../schema/fine-tuning";
import { GatewayError, badRequest } from "../../lib/errors";
import type { ProviderJobState, ProviderTuningApi } from "../fine-tuning";
import { readJson } from "../http";
import type { UpstreamTarget } from "../types";
import { putLines } from "./s3";
import { signedBedrockRequest, type BedrockConfig } from "./signing";
import { toBedrockTuningLine, type BedrockDatasetFormat } from "./tuning-dataset";

/**
 * Bedrock model customization (fine-tuning): the converted dataset is put in the provider's `tuningBucket` (S3,
 * SigV4), CreateModelCustomizationJob runs it with the `tuningRoleArn` service role and writes its output there,
 * GetModelCustomizationJob follows it. Serving the custom model:
 *
 * - Amazon Nova models: the gateway deploys it for on-demand inference (CreateCustomModelDeployment) and the job's
 *   model is the deployment's ARN — callable at once, billed per token by AWS;
 * - every other model needs Provisioned Throughput, an hourly commitment the gateway never buys on its own: the
 *   job's model is the custom model's ARN, callable once the operator has bought Provisioned Throughput for it
 *   and mapped it in the provider's `provisionedModels`.
 *
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html (read 2026-12-01)
 */

type Tunable = { id: string; format: BedrockDatasetFormat; onDemand: boolean; learningRate: "learningRateMultiplier" | null };

const NOVA = (id: string): Tunable => ({ id, format: "bedrock-conversation", onDemand: true, learningRate: null });
const TEXT = (id: string): Tunable => ({ id, format: "prompt-completion", onDemand: false, learningRate: null });
const HAIKU: Tunable = { id: "anthropic.claude-3-haiku-20240307-v1:0:200k", format: "claude-messages", onDemand: false, learningRate: "learningRateMultiplier" };

/** Base models Bedrock customizes, by model id and by their customization id (`…:<context>`). */
const TUNABLE_MODELS: Tunable[] = [
  NOVA("amazon.nova-micro-v1:0:128k"),
  NOVA("amazon.nova-lite-v1:0:300k"),
  NOVA("amazon.nova-pro-v1:0:300k"),
  HAIKU,
  TEXT("meta.llama3-1-8b-instruct-v1:0:128k"),
  TEXT("meta.llama3-1-70b-instruct-v1:0:128k"),
  TEXT("amazon.titan-text-lite-v1:0:4k"),
  TEXT("amazon.titan-text-express-v1:0:8k"),
];
export const BEDROCK_TUNABLE: Readonly<Record<string, Tunable>> = Object.fromEntries(
  TUNABLE_MODELS.flatMap((t) => [
    [t.id, t],
    // amazon.nova-micro-v1:0:128k → amazon.nova-micro-v1:0; amazon.titan-text-lite-v1:0:4k → amazon.titan-text-lite-v1
    [t.id.replace(/:[^:]+$/, ""), t],
    [t.id.replace(/:0:[^:]+$/, ""), t],
  ]),
);

const JobSchema = z
  .object({
    jobArn: z.string(),
    status: z.string().optional(),
    outputModelArn: z.string().nullish(),
    failureMessage: z.string().nullish(),
    statusDetails: z
      .object({ validationDetails: z.object({ status: z.string().optional() }).loose().nullish(), trainingDetails: z.object({ status: z.string().optional() }).loose().nullish() })
      .loose()
      .nullish(),
  })
  .loose();
const DeploymentSchema = z.object({ customModelDeploymentArn: z.string().optional(), status: z.string().optional(), failureMessage: z.string().nullish() }).loose();

const controlOf = (config: BedrockConfig) => config.controlURL ?? `https://bedrock.${config.region}.amazonaws.com`;
const jobURL = (config: BedrockConfig, arn: string) => `${controlOf(config)}/model-customization-jobs/${encodeURIComponent(arn)}`;

const tunableOf = (model: string): Tunable | undefined => (Object.hasOwn(BEDROCK_TUNABLE, model) ? BEDROCK_TUNABLE[model] : undefined);

function statusOf(job: z.infer<typeof JobSchema>): JobStatus {
  switch (job.status) {
    case "Completed":
      return "succeeded";
    case "Failed":
      return "failed";
    case "Stopped":
      return "cancelled";
    case "InProgress":
      if (job.statusDetails?.validationDetails?.status === "InProgress") return "validating_files";
      return job.statusDetails?.trainingDetails?.status === "InProgress" ? "running" : "queued";
    default:
      return "running";
  }
}

/** Bedrock takes hyperparameters as strings, by its own names. */
function hyperParametersOf(tunable: Tunable, hyperparameters: { n_epochs?: number | "auto" | undefined; batch_size?: number | "auto" | undefined; learning_rate_multiplier?: number | "auto" | undefined }): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof hyperparameters.n_epochs === "number") out.epochCount = String(hyperparameters.n_epochs);
  if (typeof hyperparameters.batch_size === "number") out.batchSize = String(hyperparameters.batch_size);
  if (typeof hyperparameters.learning_rate_multiplier === "number" && tunable.learningRate) out[tunable.learningRate] = String(hyperparameters.learning_rate_multiplier);
  return out;
}

export const bedrockTuningApi: ProviderTuningApi<BedrockConfig> = {
  tunedModelPattern: /^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:(?:custom-model|custom-model-deployment|provisioned-model)\//,
  plan(config, request, providerName) {
    const tunable = tunableOf(request.model);
    if (!tunable) throw badRequest(`Provider "${providerName}" (Bedrock) cannot customize "${request.model}". Models it tunes: ${TUNABLE_MODELS.map((t) => t.id.replace(/:[^:]+$/, "")).join(", ")}.`, "model", "model_not_tunable");
    if (request.method !== "supervised") throw badRequest("Bedrock fine-tunes with method \"supervised\" only.", "method.type", "method_not_supported");
    const multiplier = request.hyperparameters.learning_rate_multiplier;
    if (typeof multiplier === "number" && !tunable.learningRate) {
      throw badRequest(`Bedrock takes an absolute learning rate for ${tunable.id}, not a multiplier: leave learning_rate_multiplier at "auto".`, "method.supervised.hyperparameters.learning_rate_multiplier", "hyperparameter_not_supported");
    }
    if (!config.tuningBucket) throw badRequest(`Provider "${providerName}" has no S3 bucket for fine-tuning: set its "tuningBucket".`, "model", "missing_bucket_setting");
    if (!config.tuningRoleArn) throw badRequest(`Provider "${providerName}" has no service role for fine-tuning: set its "tuningRoleArn" (an IAM role Bedrock assumes to read and write tuningBucket).`, "model", "missing_role_setting");
    return { baseModel: tunable.id, kinds: tunable.format === "prompt-completion" ? ["chat", "completion"] : ["chat"], format: tunable.format };
  },
  convert: (example, plan) => toBedrockTuningLine(example, plan.format as BedrockDatasetFormat),
  async upload(target, call, role, lines, label) {
    const key = `switchyard/tuning/${label}/${role}.jsonl`;
    await putLines(target, call, target.config.tuningBucket!, key, lines);
    return `s3://${target.config.tuningBucket}/${key}`;
  },
  async create(target, call, plan, request, datasets, label) {
    const tunable = tunableOf(plan.baseModel)!;
    const hyperParameters = hyperParametersOf(tunable, request.hyperparameters);
    const body = {
      jobName: label,
      customModelName: request.suffix ? `${label}-${request.suffix}` : label,
      roleArn: target.config.tuningRoleArn,
      // Bedrock ignores a repeated request with the same token: a step retried after a crash creates one job.
      clientRequestToken: label,
      baseModelIdentifier: plan.baseModel,
      customizationType: "FINE_TUNING",
      trainingDataConfig: { s3Uri: datasets.training },
      ...(datasets.validation ? { validationDataConfig: { validators: [{ s3Uri: datasets.validation }] } } : {}),
      outputDataConfig: { s3Uri: `s3://${target.config.tuningBucket}/switchyard/tuning/${label}/output/` },
      ...(Object.keys(hyperParameters).length ? { hyperParameters } : {}),
    };
    const created = await call(await signedBedrockRequest(target, `${controlOf(target.config)}/model-customization-jobs`, body));
    const job = await readJson(created, z.object({ jobArn: z.string() }), target.providerName, "customization job");
    return { jobArn: job.jobArn };
  },
  async status(target, call, ref): Promise<ProviderJobState> {
    const job = await readJson(await call(await signedBedrockRequest(target, jobURL(target.config, ref.jobArn!), undefined)), JobSchema, target.providerName, "customization job");
    const status = statusOf(job);
    const state: ProviderJobState = { status };
    if (job.outputModelArn) state.tunedModel = job.outputModelArn;
    if (status === "failed") state.error = { code: "provider_job_failed", message: job.failureMessage ?? "the customization job failed", param: null };
    return state;
  },
  async cancel(target, call, ref) {
    await call(await signedBedrockRequest(target, `${jobURL(target.config, ref.jobArn!)}/stop`, {}));
  },
  async serve(target: UpstreamTarget<BedrockConfig>, call, plan, tunedModel, state, label) {
    const tunable = tunableOf(plan.baseModel);
    // Provisioned Throughput is the operator's to buy: the custom model is what the job made.
    if (!tunable?.onDemand) return { ready: true, model: tunedModel };
    const deployments = `${controlOf(target.config)}/model-customization/custom-model-deployments`;
    const response = state?.deployment
      ? await call(await signedBedrockRequest(target, `${deployments}/${encodeURIComponent(state.deployment)}`, undefined))
      : await call(await signedBedrockRequest(target, deployments, { modelDeploymentName: label, modelArn: tunedModel, clientRequestToken: label }));
    const deployment = await readJson(response, DeploymentSchema, target.providerName, "custom model deployment");
    const arn = state?.deployment ?? deployment.customModelDeploymentArn;
    if (!arn) throw new GatewayError({ status: 502, type: "upstream_error", message: `${target.providerName}: the custom model deployment has no ARN.` });
    if (deployment.status === "Active") return { ready: true, model: arn };
    if (deployment.status === "Failed") throw badRequest(`${target.providerName}: deploying the custom model for on-demand inference failed: ${deployment.failureMessage ?? "no reason given"}`, null, "deployment_failed");
    return { ready: false, state: { deployment: arn } };
  },
};
