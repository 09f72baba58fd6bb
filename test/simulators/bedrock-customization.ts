import type { Hono } from "hono";
import { bedrockError } from "./bedrock";
import type { SimulatorContext } from "./openai";
import { S3_OBJECTS } from "./s3";
import type { Fault } from "./scenarios";

/**
 * Bedrock's control plane for model customization, as AWS runs it: CreateModelCustomizationJob on a dataset in
 * S3 (the S3 simulator's objects), checked in the base model's format (bedrock-conversation-2024 for Nova,
 * Claude 3 Haiku's messages, prompt/completion for Llama and Titan); GetModelCustomizationJob moving one state per
 * read (InProgress: validation → training → Completed, with the custom model's ARN); StopModelCustomizationJob;
 * CreateCustomModelDeployment / GetCustomModelDeployment for on-demand inference of Nova custom models; and
 * CreateProvisionedModelThroughput, as an operator would buy it. `clientRequestToken` makes creates idempotent.
 * `tunedModels` says how the runtime may call a custom model's ARN.
 */

const ACCOUNT = "123456789012";
type Format = "conversation" | "claude" | "prompt";
const BASES: Record<string, Format> = {
  "amazon.nova-micro-v1:0:128k": "conversation",
  "amazon.nova-lite-v1:0:300k": "conversation",
  "amazon.nova-pro-v1:0:300k": "conversation",
  "anthropic.claude-3-haiku-20240307-v1:0:200k": "claude",
  "meta.llama3-1-8b-instruct-v1:0:128k": "prompt",
  "meta.llama3-1-70b-instruct-v1:0:128k": "prompt",
  "amazon.titan-text-lite-v1:0:4k": "prompt",
  "amazon.titan-text-express-v1:0:8k": "prompt",
};

type Job = { arn: string; name: string; base: string; training: string; status: string; phase: number; outcome: Fault["batch"]; failure: string | null; model: string | null; token: string | undefined };

/** How a model ARN may be invoked on the runtime: answering as `base`, or refused with `refusal`. */
export type RuntimeModel = { base: string } | { refusal: string };

/** Checks one dataset line in the base model's format; the problem, or undefined. */
function lineProblem(format: Format, line: string): string | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line);
  } catch {
    return "is not valid JSON";
  }
  if (format === "prompt") return typeof value.prompt === "string" && typeof value.completion === "string" && Object.keys(value).length === 2 ? undefined : 'must be {"prompt", "completion"}';
  const messages = value.messages as { role?: string; content?: unknown }[] | undefined;
  if (!Array.isArray(messages) || messages.length < 2) return "needs at least two messages";
  if (messages[0]!.role !== "user" || messages.at(-1)!.role !== "assistant") return "must start with user and end with assistant";
  if (messages.some((m, i) => i > 0 && m.role === messages[i - 1]!.role)) return "roles must alternate";
  if (format === "claude") return Object.keys(value).every((k) => k === "system" || k === "messages") && messages.every((m) => typeof m.content === "string") ? undefined : "has the wrong shape for Claude 3 Haiku";
  if (value.schemaVersion !== "bedrock-conversation-2024") return 'needs "schemaVersion": "bedrock-conversation-2024"';
  return messages.every((m) => Array.isArray(m.content) && m.content.every((b: { text?: unknown }) => typeof b.text === "string")) ? undefined : "content must be a list of text blocks";
}

export function mountBedrockCustomization(app: Hono<{ Bindings: SimulatorContext }>, runtime: Map<string, RuntimeModel>): void {
  const jobs = new Map<string, Job>();
  const byToken = new Map<string, Job>();
  const deployments = new Map<string, { arn: string; model: string; status: string }>();
  const random = () => Math.random().toString(36).slice(2, 14);

  app.post("/model-customization-jobs", async (c) => {
    const body = await c.req.json<{ jobName?: string; customModelName?: string; roleArn?: string; baseModelIdentifier?: string; clientRequestToken?: string; customizationType?: string; trainingDataConfig?: { s3Uri?: string }; outputDataConfig?: { s3Uri?: string } }>();
    if (body.clientRequestToken && byToken.has(body.clientRequestToken)) return c.json({ jobArn: byToken.get(body.clientRequestToken)!.arn }, 201);
    if (!/^arn:aws:iam::\d{12}:role\/.+$/.test(body.roleArn ?? "")) return bedrockError(400, "1 validation error detected: Value at 'roleArn' failed to satisfy constraint.");
    const format = BASES[body.baseModelIdentifier ?? ""];
    if (!format) return bedrockError(400, `The provided base model ${body.baseModelIdentifier} is not supported for customization type FINE_TUNING.`);
    if (body.customizationType !== "FINE_TUNING" || !body.jobName || !body.customModelName || !body.outputDataConfig?.s3Uri) return bedrockError(400, "jobName, customModelName, customizationType and outputDataConfig are required.");
    const training = body.trainingDataConfig?.s3Uri ?? "";
    if (!S3_OBJECTS.has(training.replace(/^s3:\/\//, ""))) return bedrockError(400, `The training data ${training} could not be read from S3. Check the role's permissions on the bucket.`);
    const job: Job = { arn: `arn:aws:bedrock:us-east-1:${ACCOUNT}:model-customization-job/${body.baseModelIdentifier}/${random()}`, name: body.jobName, base: body.baseModelIdentifier!, training, status: "InProgress", phase: 0, outcome: c.env.fault?.batch, failure: null, model: null, token: body.clientRequestToken };
    jobs.set(job.arn, job);
    if (job.token) byToken.set(job.token, job);
    return c.json({ jobArn: job.arn }, 201);
  });

  const describe = (job: Job) => {
    const stage = (n: number) => (job.phase > n || job.status !== "InProgress" ? "Completed" : job.phase === n ? "InProgress" : "NotStarted");
    return {
      jobArn: job.arn,
      jobName: job.name,
      baseModelArn: `arn:aws:bedrock:us-east-1::foundation-model/${job.base}`,
      status: job.status,
      ...(job.failure ? { failureMessage: job.failure } : {}),
      ...(job.model ? { outputModelArn: job.model, outputModelName: job.name } : {}),
      statusDetails: { validationDetails: { status: stage(0) }, dataProcessingDetails: { status: stage(1) }, trainingDetails: { status: stage(1) } },
      trainingDataConfig: { s3Uri: job.training },
      customizationType: "FINE_TUNING",
      creationTime: new Date().toISOString(),
    };
  };

  app.get("/model-customization-jobs/:id", (c) => {
    const job = jobs.get(c.req.param("id"));
    if (!job) return bedrockError(404, `Could not find model customization job ${c.req.param("id")}.`);
    if (job.status === "InProgress") {
      if (job.phase === 0) {
        const format = BASES[job.base]!;
        const lines = (S3_OBJECTS.get(job.training.replace(/^s3:\/\//, "")) ?? "").split("\n").filter((l) => l.trim() !== "");
        const bad = lines.findIndex((line) => lineProblem(format, line) !== undefined);
        if (bad >= 0 || job.outcome === "fail") {
          job.status = "Failed";
          job.failure = bad >= 0 ? `Validation failed: line ${bad + 1} ${lineProblem(format, lines[bad]!)}.` : "Training failed: the account's customization quota is exhausted.";
        } else job.phase = 1;
      } else if (job.outcome !== "hold") {
        job.status = "Completed";
        job.model = `arn:aws:bedrock:us-east-1:${ACCOUNT}:custom-model/${job.base}/${random()}`;
        runtime.set(job.model, BASES[job.base] === "conversation" ? { refusal: "on-demand" } : { refusal: "provisioned" });
      }
    } else if (job.status === "Stopping") job.status = "Stopped";
    return c.json(describe(job));
  });

  app.post("/model-customization-jobs/:id/stop", (c) => {
    const job = jobs.get(c.req.param("id"));
    if (!job) return bedrockError(404, `Could not find model customization job ${c.req.param("id")}.`);
    if (job.status !== "InProgress") return bedrockError(400, `The job is ${job.status} and cannot be stopped.`);
    job.status = "Stopping";
    return c.json({});
  });

  app.post("/model-customization/custom-model-deployments", async (c) => {
    const body = await c.req.json<{ modelDeploymentName?: string; modelArn?: string; clientRequestToken?: string }>();
    const existing = [...deployments.values()].find((d) => d.model === body.modelArn);
    if (existing) return c.json({ customModelDeploymentArn: existing.arn });
    const model = runtime.get(body.modelArn ?? "");
    if (!model || !("refusal" in model) || model.refusal !== "on-demand") return bedrockError(400, `The model ${body.modelArn} does not support on-demand deployment.`);
    if (!/^([0-9a-zA-Z][_-]?){1,63}$/.test(body.modelDeploymentName ?? "")) return bedrockError(400, "Value at 'modelDeploymentName' failed to satisfy constraint.");
    const arn = `arn:aws:bedrock:us-east-1:${ACCOUNT}:custom-model-deployment/${random()}`;
    deployments.set(arn, { arn, model: body.modelArn!, status: "Creating" });
    return c.json({ customModelDeploymentArn: arn });
  });

  app.get("/model-customization/custom-model-deployments/:id", (c) => {
    const deployment = deployments.get(c.req.param("id"));
    if (!deployment) return bedrockError(404, `Could not find custom model deployment ${c.req.param("id")}.`);
    if (deployment.status === "Creating") {
      deployment.status = "Active";
      const base = deployment.model.split("/")[1]!;
      runtime.set(deployment.arn, { base });
    }
    return c.json({ customModelDeploymentArn: deployment.arn, modelArn: deployment.model, status: deployment.status });
  });

  app.post("/provisioned-model-throughput", async (c) => {
    const body = await c.req.json<{ modelId?: string; modelUnits?: number; provisionedModelName?: string }>();
    if (!runtime.has(body.modelId ?? "") || !body.modelUnits) return bedrockError(400, `The model ${body.modelId} cannot be provisioned.`);
    const arn = `arn:aws:bedrock:us-east-1:${ACCOUNT}:provisioned-model/${random()}`;
    runtime.set(arn, { base: body.modelId!.split("/")[1]! });
    return c.json({ provisionedModelArn: arn }, 201);
  });
}
