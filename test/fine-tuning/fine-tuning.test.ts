import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { TEST_AWS_CREDENTIALS, TEST_PROVIDER_KEYS } from "../fixtures";
import { admin, newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests, type TestWorkspace } from "../helpers";
import { workspaceRows } from "../usage/usage-helpers";

/**
 * Fine-tuning through the official OpenAI SDK (`client.fineTuning.jobs.*`) on OpenAI, Azure OpenAI, Vertex AI and
 * Bedrock, against simulators of their tuning APIs and of Cloud Storage / S3 (which check the service account's
 * token and the SigV4 signature): create → events → succeeded → chat with the tuned model; the checks before
 * anything is uploaded; provider failures; cancel; tuned models refused to other workspaces; pricing and the
 * training usage event. The job's Durable Object is driven with runDurableObjectAlarm instead of its poll interval.
 */

const AZURE_TENANT = "11111111-2222-3333-4444-555555555555";

function tuningConfig(scenario: string): GatewayConfigInput {
  const origin = simulatorOrigin();
  return {
    providers: {
      openai: { type: "openai", baseURL: `${origin}/s/${scenario}/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
      azure: {
        type: "azure",
        baseURL: `${origin}/s/${scenario}/azure`,
        apiKey: { env: "AZURE_API_KEY" },
        tunedDeployments: { subscriptionId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", resourceGroup: "ml", resourceName: "sim-resource", tenantId: AZURE_TENANT, clientId: "99999999-8888-7777-6666-555555555555", sku: "Developer", capacity: 1 },
        clientSecret: { env: "AZURE_CLIENT_SECRET" },
        managementURL: `${origin}/s/${scenario}/azure-arm`,
        loginURL: `${origin}/s/${scenario}/azure-arm`,
      },
      vertex: {
        type: "vertex",
        project: "switchyard-sim",
        location: "us-central1",
        serviceAccount: { env: "VERTEX_SERVICE_ACCOUNT" },
        tokenURL: `${origin}/s/${scenario}/vertex/token`,
        baseURL: `${origin}/s/${scenario}/vertex`,
        storageURL: `${origin}/s/${scenario}/vertex`,
        tuningBucket: "switchyard-tuning",
      },
      bedrock: {
        type: "bedrock",
        region: "us-east-1",
        accessKeyId: { env: "AWS_ACCESS_KEY_ID" },
        secretAccessKey: { env: "AWS_SECRET_ACCESS_KEY" },
        baseURL: `${origin}/s/${scenario}/bedrock`,
        controlURL: `${origin}/s/${scenario}/bedrock`,
        s3URL: `${origin}/s/${scenario}/s3`,
        tuningBucket: "switchyard-tuning",
        tuningRoleArn: "arn:aws:iam::123456789012:role/BedrockCustomization",
      },
      "vertex-nobucket": { type: "vertex", project: "p", location: "us-central1", serviceAccount: { env: "VERTEX_SERVICE_ACCOUNT" }, baseURL: `${origin}/s/${scenario}/vertex` },
      "bedrock-nobucket": { type: "bedrock", region: "us-east-1", accessKeyId: { env: "AWS_ACCESS_KEY_ID" }, secretAccessKey: { env: "AWS_SECRET_ACCESS_KEY" }, baseURL: `${origin}/s/${scenario}/bedrock` },
      "bedrock-norole": { type: "bedrock", region: "us-east-1", accessKeyId: { env: "AWS_ACCESS_KEY_ID" }, secretAccessKey: { env: "AWS_SECRET_ACCESS_KEY" }, baseURL: `${origin}/s/${scenario}/bedrock`, tuningBucket: "switchyard-tuning" },
      anthropic: { type: "anthropic", baseURL: `${origin}/s/${scenario}/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } },
    },
    routes: { "support-base": { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
  };
}

/** A chat example in OpenAI's training format. */
const example = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ messages: [{ role: "system", content: "You are Switchyard's support bot." }, { role: "user", content: `How do I rotate key ${i}?` }, { role: "assistant", content: `Call POST /admin/credentials/rotate (case ${i}).` }], ...extra });

const dataset = (lines: string[]) => new File([lines.join("\n") + "\n"], "train.jsonl");
const trainingLines = (n = 12) => Array.from({ length: n }, (_, i) => example(i));

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Runs the job's driver until the job reaches one of `statuses` (each alarm is one step). */
async function driveUntil(client: OpenAI, id: string, statuses: ReadonlySet<string> = FINAL, seen: string[] = []): Promise<OpenAI.FineTuning.FineTuningJob> {
  for (let step = 0; step < 40; step++) {
    const job = await client.fineTuning.jobs.retrieve(id);
    if (seen.at(-1) !== job.status) seen.push(job.status);
    if (statuses.has(job.status)) return job;
    if (!(await runDurableObjectAlarm(env.FINE_TUNING_DRIVER.getByName(id)))) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${id} did not reach ${[...statuses].join("/")}`);
}

/** The error's own message, as the gateway wrote it (the SDK's `message` leads with the status). */
const bodyMessage = (error: InstanceType<typeof OpenAI.APIError>) => (error.error as { message: string }).message;

async function refusal(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

let ws: TestWorkspace;
let client: OpenAI;
beforeAll(async () => {
  ws = await newWorkspace(tuningConfig);
  client = openAIClient(ws.key);
});

/** The usage row of a job's training, once the queue has written it. */
async function trainingRow(workspaceId: string, jobId: string) {
  for (let tries = 0; tries < 150; tries++) {
    const row = (await workspaceRows(workspaceId, 0)).find((r) => r.request_id === `${jobId}:training`);
    if (row) return row;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no training usage row for ${jobId}`);
}

async function allEvents(id: string): Promise<OpenAI.FineTuning.FineTuningJobEvent[]> {
  const events: OpenAI.FineTuning.FineTuningJobEvent[] = [];
  for await (const event of client.fineTuning.jobs.listEvents(id, { limit: 5 })) events.push(event);
  return events;
}

describe("OpenAI", () => {
  it("creates a job from a gateway file, relays events and checkpoints, and serves the tuned model to its workspace at once", async () => {
    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: file.id, suffix: "support", seed: 7, metadata: { team: "support" }, method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2 } } } });
    expect(created).toMatchObject({ object: "fine_tuning.job", status: "validating_files", model: "openai/gpt-4o-mini", training_file: file.id, fine_tuned_model: null, metadata: { team: "support" }, seed: 7 });
    expect(created.id).toMatch(/^ftjob-/);

    const done = await driveUntil(client, created.id);
    expect(done).toMatchObject({ status: "succeeded", trained_tokens: expect.any(Number) });
    expect(done.fine_tuned_model).toMatch(/^ft:gpt-4o-mini-2024-07-18:switchyard-sim:support:/);
    // The provider's job and file ids never reach the client.
    expect(JSON.stringify(done)).not.toMatch(/file-sim/);

    const events = await allEvents(created.id);
    const messages = events.map((e) => e.message);
    expect(messages).toContain("The job has successfully completed");
    expect(messages.some((m) => m.startsWith("Validated 12 training examples"))).toBe(true);
    expect(events.some((e) => e.type === "metrics")).toBe(true);
    expect(events[0]!.created_at).toBeGreaterThanOrEqual(events.at(-1)!.created_at);

    const checkpoints = [];
    for await (const checkpoint of client.fineTuning.jobs.checkpoints.list(created.id)) checkpoints.push(checkpoint);
    expect(checkpoints.map((c) => c.step_number)).toEqual([4, 2]);
    expect(checkpoints[1]!.fine_tuned_model_checkpoint).toBe(`${done.fine_tuned_model}:ckpt-step-2`);

    // What OpenAI received: the dataset as the client wrote it, the job with the provider's snapshot and method.
    const received = await upstreamRequests(ws.scenario);
    const job = received.find((r) => r.method === "POST" && r.path === "/v1/fine_tuning/jobs")!;
    expect(job.body).toMatchObject({ model: "gpt-4o-mini-2024-07-18", suffix: "support", seed: 7, method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2 } } } });

    const reply = await client.chat.completions.create({ model: `openai/${done.fine_tuned_model}`, messages: [{ role: "user", content: "rotate?" }] });
    expect(reply.choices[0]!.message.content).toContain("rotate?");
  });

  it("lists the workspace's jobs newest first with limit and after, and filters by metadata", async () => {
    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const a = await client.fineTuning.jobs.create({ model: "support-base", training_file: file.id, metadata: { run: "a" } });
    const b = await client.fineTuning.jobs.create({ model: "support-base", training_file: file.id, metadata: { run: "b" } });
    const first = await client.fineTuning.jobs.list({ limit: 1 });
    expect(first.data.map((j) => j.id)).toEqual([b.id]);
    expect(first.has_more).toBe(true);
    const next = await client.fineTuning.jobs.list({ limit: 1, after: b.id });
    expect(next.data.map((j) => j.id)).toEqual([a.id]);
    const filtered = await client.fineTuning.jobs.list({ metadata: { run: "a" } });
    expect(filtered.data.map((j) => j.id)).toEqual([a.id]);
    // A route with one provider target tunes that target's model.
    expect(a.model).toBe("support-base");
    await driveUntil(client, a.id);
    await driveUntil(client, b.id);
  });

  it("fails a job the provider refuses, with the provider's reason and the credentials redacted", async () => {
    await scriptFaults(ws.scenario, []);
    const small = await client.files.create({ file: dataset(trainingLines(3)), purpose: "fine-tune" });
    const tooSmall = await driveUntil(client, (await client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: small.id })).id);
    expect(tooSmall.status).toBe("failed");
    expect(tooSmall.error).toMatchObject({ code: "invalid_n_examples", message: expect.stringContaining("at least 10 examples") });

    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: file.id });
    // The upload and the file check pass; the job is created at OpenAI, then fails there with a message that
    // echoes the key it was called with.
    await scriptFaults(ws.scenario, [{}, {}, { batch: "fail" }]);
    const failed = await driveUntil(client, created.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ code: "quota_exceeded", message: expect.stringContaining("openai: Fine-tuning rejected for the credentials [redacted]") });
    expect(JSON.stringify(failed)).not.toContain(TEST_PROVIDER_KEYS.OPENAI_API_KEY);
    const events = await allEvents(created.id);
    expect(events[0]).toMatchObject({ level: "error", message: expect.stringContaining("[redacted]") });
    expect(JSON.stringify(events)).not.toContain(TEST_PROVIDER_KEYS.OPENAI_API_KEY);
  });

  it("runs a DPO job on preference examples with a validation file, both uploaded to OpenAI's files", async () => {
    const preference = (i: number) =>
      JSON.stringify({
        input: { messages: [{ role: "user", content: `How do I rotate key ${i}?` }] },
        preferred_output: [{ role: "assistant", content: `Call POST /admin/credentials/rotate (case ${i}).` }],
        non_preferred_output: [{ role: "assistant", content: "Ask someone." }],
      });
    const lines = Array.from({ length: 12 }, (_, i) => preference(i));
    const training = await client.files.create({ file: dataset(lines), purpose: "fine-tune" });
    const validation = await client.files.create({ file: dataset(lines.slice(0, 3)), purpose: "fine-tune" });
    const before = (await upstreamRequests(ws.scenario)).length;
    const created = await client.fineTuning.jobs.create({ model: "openai/gpt-4.1-mini", training_file: training.id, validation_file: validation.id, method: { type: "dpo", dpo: { hyperparameters: { beta: 0.2 } } } });
    expect(created).toMatchObject({ validation_file: validation.id, method: { type: "dpo", dpo: { hyperparameters: { beta: 0.2 } } } });
    const done = await driveUntil(client, created.id);
    expect(done.status).toBe("succeeded");
    expect(done.validation_file).toBe(validation.id);

    const received = (await upstreamRequests(ws.scenario)).slice(before);
    expect(received.filter((r) => r.method === "POST" && r.path === "/v1/files")).toHaveLength(2);
    const job = received.find((r) => r.method === "POST" && r.path === "/v1/fine_tuning/jobs")!;
    expect(job.body).toMatchObject({ model: "gpt-4.1-mini-2025-04-14", method: { type: "dpo", dpo: { hyperparameters: { beta: 0.2 } } }, training_file: expect.stringMatching(/^file-/), validation_file: expect.stringMatching(/^file-/) });
    const body = job.body as { training_file: string; validation_file: string };
    expect(body.validation_file).not.toBe(body.training_file);
    expect(body.training_file).not.toBe(training.id);
  });

  it("keeps jobs to their workspace: another workspace's key cannot see, list, follow or cancel them", async () => {
    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: file.id });
    const outsider = openAIClient((await newWorkspace(tuningConfig)).key);
    for (const call of [
      () => outsider.fineTuning.jobs.retrieve(created.id),
      () => outsider.fineTuning.jobs.cancel(created.id),
      () => outsider.fineTuning.jobs.listEvents(created.id),
      () => outsider.fineTuning.jobs.checkpoints.list(created.id),
    ]) {
      expect(await refusal(call())).toMatchObject({ status: 404, code: "fine_tuning_job_not_found" });
    }
    expect((await outsider.fineTuning.jobs.list()).data).toEqual([]);
    expect((await driveUntil(client, created.id)).status).toBe("succeeded");
  });

  it("cancels a running job at the provider", async () => {
    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: file.id });
    await driveUntil(client, created.id, new Set(["running"]));
    const cancelling = await client.fineTuning.jobs.cancel(created.id);
    expect(cancelling.id).toBe(created.id);
    const done = await driveUntil(client, created.id);
    expect(done.status).toBe("cancelled");
    const received = await upstreamRequests(ws.scenario);
    expect(received.some((r) => r.method === "POST" && /\/fine_tuning\/jobs\/ftjob-[^/]+\/cancel$/.test(r.path))).toBe(true);
    expect((await allEvents(created.id)).map((e) => e.message)).toContain("The job was cancelled");
  });
});

describe("Azure OpenAI", () => {
  it("uploads to Azure's files, waits for the import, tunes, deploys through Resource Manager and serves the tuned model at once", async () => {
    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({ model: "azure/gpt-4o-mini-2024-07-18", training_file: file.id, method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 1 } } } });
    const done = await driveUntil(client, created.id);
    expect(done.status).toBe("succeeded");
    expect(done.fine_tuned_model).toMatch(/^gpt-4o-mini-2024-07-18\.ft-[0-9a-f]{32}$/);
    const messages = (await allEvents(created.id)).map((e) => e.message);
    expect(messages).toEqual(expect.arrayContaining(["Deploying the tuned model at azure", "The job has successfully completed"]));

    const received = await upstreamRequests(ws.scenario);
    // The GA API takes supervised hyperparameters at the top level, with the api-version.
    expect(received.find((r) => r.method === "POST" && r.path.startsWith("/openai/fine_tuning/jobs?api-version="))!.body).toMatchObject({ model: "gpt-4o-mini-2024-07-18", hyperparameters: { n_epochs: 1 } });
    // The deployment is an Azure Resource Manager resource created with an Entra ID token, named after the model.
    const token = received.find((r) => r.path === `/${AZURE_TENANT}/oauth2/v2.0/token`)!;
    expect(String(token.body)).toContain("grant_type=client_credentials");
    const deploy = received.find((r) => r.method === "PUT" && r.path.includes("/providers/Microsoft.CognitiveServices/accounts/sim-resource/deployments/"))!;
    expect(deploy.path).toContain(`/deployments/${done.fine_tuned_model}?api-version=`);
    expect(deploy.headers.authorization).toMatch(/^Bearer /);
    expect(deploy.body).toMatchObject({ sku: { name: "Developer", capacity: 1 }, properties: { model: { format: "OpenAI", name: done.fine_tuned_model } } });

    const reply = await client.chat.completions.create({ model: `azure/${done.fine_tuned_model}`, messages: [{ role: "user", content: "rotate?" }] });
    expect(reply.choices[0]!.message.content).toContain("rotate?");
  });
});

describe("Vertex AI", () => {
  it("converts the dataset to Vertex's format in Cloud Storage, tunes, and serves the tuned endpoint at once", async () => {
    const tool = { type: "function", function: { name: "rotate_key", parameters: { type: "object", properties: { name: { type: "string" } } } } };
    const toolExample = JSON.stringify({
      messages: [
        { role: "user", content: "Rotate the staging key" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "rotate_key", arguments: '{"name":"staging"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: '{"rotated":true}' },
        { role: "assistant", content: "Done: the staging key is rotated." },
      ],
      tools: [tool],
    });
    const file = await client.files.create({ file: dataset([...trainingLines(11), toolExample]), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({ model: "vertex/gemini-2.0-flash", training_file: file.id, suffix: "support", method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2 } } } });
    const seen: string[] = [];
    const done = await driveUntil(client, created.id, FINAL, seen);
    expect(done.status).toBe("succeeded");
    // Vertex's JOB_STATE_RUNNING and JOB_STATE_SUCCEEDED, as OpenAI's statuses.
    expect(seen).toEqual(["validating_files", "running", "succeeded"]);
    const messages = (await allEvents(created.id)).map((e) => e.message);
    expect(messages).toEqual(expect.arrayContaining(["Uploaded the converted datasets to vertex", "Created the fine-tuning job at vertex", "The job has successfully completed"]));
    // The training is a usage event of its own: gemini-2.0-flash-001 tuning at $3 per 1M trained tokens.
    const training = await trainingRow(ws.id, created.id);
    expect(training).toMatchObject({ provider: "vertex", model: "gemini-2.0-flash-001", prompt_tokens: done.trained_tokens });
    expect(training.cost_usd).toBeCloseTo((done.trained_tokens! * 3) / 1_000_000, 12);
    expect(done.fine_tuned_model).toMatch(/^projects\/switchyard-sim\/locations\/us-central1\/endpoints\/\d+$/);
    // Vertex reports the dataset's billable tokens; two epochs bill them twice.
    expect(done.trained_tokens).toBeGreaterThan(0);
    expect(done.trained_tokens! % 2).toBe(0);

    const received = await upstreamRequests(ws.scenario);
    const start = received.find((r) => r.method === "POST" && r.path.startsWith("/upload/storage/v1/b/switchyard-tuning/o?uploadType=resumable"))!;
    expect(start.path).toContain(encodeURIComponent(`switchyard/tuning/${created.id}/training.jsonl`));
    // The upload and the job carry the service account's token (the simulator refuses anything else).
    expect(start.headers.authorization).toMatch(/^Bearer ya29\.sim-/);
    const uploaded = String(received.find((r) => r.method === "PUT" && r.path.includes("upload_id="))!.body).trim().split("\n").map((l) => JSON.parse(l));
    expect(uploaded[0]).toEqual({
      systemInstruction: { role: "system", parts: [{ text: "You are Switchyard's support bot." }] },
      contents: [
        { role: "user", parts: [{ text: "How do I rotate key 0?" }] },
        { role: "model", parts: [{ text: "Call POST /admin/credentials/rotate (case 0)." }] },
      ],
    });
    expect(uploaded[11].contents.map((c: { role: string }) => c.role)).toEqual(["user", "model", "user", "model"]);
    expect(uploaded[11].contents[1].parts[0]).toEqual({ functionCall: { name: "rotate_key", args: { name: "staging" } } });
    expect(uploaded[11].tools[0].functionDeclarations[0].name).toBe("rotate_key");
    const job = received.find((r) => r.method === "POST" && r.path.endsWith("/tuningJobs"))!;
    expect(job.body).toMatchObject({ baseModel: "gemini-2.0-flash-001", supervisedTuningSpec: { trainingDatasetUri: `gs://switchyard-tuning/switchyard/tuning/${created.id}/training.jsonl`, hyperParameters: { epochCount: 2 } }, tunedModelDisplayName: "support" });

    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(created.id)).data;
    expect(checkpoints.map((c) => c.fine_tuned_model_checkpoint)).toEqual([expect.stringMatching(/\/endpoints\/\d+$/), expect.stringMatching(/\/endpoints\/\d+$/)]);

    const reply = await client.chat.completions.create({ model: `vertex/${done.fine_tuned_model}`, messages: [{ role: "user", content: "rotate?" }] });
    expect(reply.choices[0]!.message.content).toContain("rotate?");
  });
});

describe("Bedrock", () => {
  it("puts the converted dataset in S3 (SigV4), customizes Nova, deploys it on demand and serves it at once", async () => {
    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({ model: "bedrock/amazon.nova-micro-v1:0", training_file: file.id, method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2, batch_size: 1 } } } });
    const seen: string[] = [];
    const done = await driveUntil(client, created.id, FINAL, seen);
    expect(done.status).toBe("succeeded");
    // Bedrock's InProgress (validation, then training) and Completed, as OpenAI's statuses.
    expect(seen).toEqual(expect.arrayContaining(["validating_files", "running", "succeeded"]));
    const messages = (await allEvents(created.id)).map((e) => e.message);
    expect(messages).toEqual(expect.arrayContaining(["Uploaded the converted datasets to bedrock", "Deploying the tuned model at bedrock", "The job has successfully completed"]));
    expect(done.fine_tuned_model).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment\//);
    // Bedrock reports no trained tokens: no training cost is made up.
    expect(done.trained_tokens).toBeNull();

    const received = await upstreamRequests(ws.scenario);
    const put = received.find((r) => r.method === "PUT" && r.path === `/switchyard-tuning/switchyard/tuning/${created.id}/training.jsonl`)!;
    expect(put.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIASIMULATOR0000001\/\d{8}\/us-east-1\/s3\/aws4_request/);
    expect(put.headers["x-amz-content-sha256"]).toMatch(/^[0-9a-f]{64}$/);
    const lines = String(put.body).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({
      schemaVersion: "bedrock-conversation-2024",
      system: [{ text: "You are Switchyard's support bot." }],
      messages: [
        { role: "user", content: [{ text: "How do I rotate key 0?" }] },
        { role: "assistant", content: [{ text: "Call POST /admin/credentials/rotate (case 0)." }] },
      ],
    });
    const job = received.find((r) => r.method === "POST" && r.path === "/model-customization-jobs")!;
    expect(job.headers.authorization).toMatch(/\/us-east-1\/bedrock\/aws4_request/);
    expect(job.body).toMatchObject({
      jobName: created.id,
      clientRequestToken: created.id,
      roleArn: "arn:aws:iam::123456789012:role/BedrockCustomization",
      baseModelIdentifier: "amazon.nova-micro-v1:0:128k",
      customizationType: "FINE_TUNING",
      trainingDataConfig: { s3Uri: `s3://switchyard-tuning/switchyard/tuning/${created.id}/training.jsonl` },
      hyperParameters: { epochCount: "2", batchSize: "1" },
    });

    const reply = await client.chat.completions.create({ model: `bedrock/${done.fine_tuned_model}`, messages: [{ role: "user", content: "rotate?" }] });
    expect(reply.choices[0]!.message.content).toContain("rotate?");
  });

  it("leaves a custom model that needs Provisioned Throughput to the operator, and calls it through provisionedModels once bought", async () => {
    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({ model: "bedrock/meta.llama3-1-8b-instruct-v1:0", training_file: file.id });
    const done = await driveUntil(client, created.id);
    expect(done.fine_tuned_model).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:custom-model\/meta\.llama3-1-8b-instruct-v1:0:128k\//);
    const put = (await upstreamRequests(ws.scenario)).find((r) => r.method === "PUT" && r.path === `/switchyard-tuning/switchyard/tuning/${created.id}/training.jsonl`)!;
    expect(JSON.parse(String(put.body).split("\n")[0]!)).toEqual({ prompt: "You are Switchyard's support bot.\n\nHow do I rotate key 0?", completion: "Call POST /admin/credentials/rotate (case 0)." });

    // Without Provisioned Throughput Bedrock refuses the custom model, and the gateway passes that on.
    const refused = await refusal(client.chat.completions.create({ model: `bedrock/${done.fine_tuned_model}`, messages: [{ role: "user", content: "hi" }] }));
    expect(refused.status).toBe(400);
    expect(refused.message).toContain("on-demand throughput isn't supported");

    // The operator buys Provisioned Throughput (as with the AWS CLI) and maps the custom model to it.
    const { AwsClient } = await import("aws4fetch");
    const aws = new AwsClient({ accessKeyId: TEST_AWS_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: TEST_AWS_CREDENTIALS.AWS_SECRET_ACCESS_KEY, service: "bedrock", region: "us-east-1" });
    const bought = (await (await aws.fetch(`${simulatorOrigin()}/bedrock/provisioned-model-throughput`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ modelId: done.fine_tuned_model, modelUnits: 1, provisionedModelName: "support" }) })).json()) as { provisionedModelArn: string };
    const config = tuningConfig(ws.scenario);
    const bedrock = config.providers.bedrock as Extract<GatewayConfigInput["providers"][string], { type: "bedrock" }>;
    bedrock.provisionedModels = { [done.fine_tuned_model!]: bought.provisionedModelArn };
    expect((await admin(`/workspaces/${ws.id}/config`, { method: "PUT", body: JSON.stringify(config) })).status).toBe(200);
    const reply = await client.chat.completions.create({ model: `bedrock/${done.fine_tuned_model}`, messages: [{ role: "user", content: "rotate?" }] });
    expect(reply.choices[0]!.message.content).toContain("rotate?");
    const converse = (await upstreamRequests(ws.scenario)).filter((r) => r.path.endsWith("/converse")).at(-1)!;
    expect(decodeURIComponent(converse.path)).toBe(`/model/${bought.provisionedModelArn}/converse`);
  });
});

describe("cancel on Vertex AI and Bedrock", () => {
  it("passes the cancel on (tuningJobs:cancel, StopModelCustomizationJob) and reports the job cancelled once the provider has stopped it", async () => {
    const own = await newWorkspace(tuningConfig);
    const ownClient = openAIClient(own.key);
    // Every provider job of this scenario keeps running until it is cancelled.
    await scriptFaults(own.scenario, [], { batch: "hold" });
    const file = await ownClient.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const cases = [
      ["vertex/gemini-2.5-flash", /\/tuningJobs\/[^/]+:cancel$/],
      ["bedrock/amazon.nova-micro-v1:0", /\/model-customization-jobs\/arn:aws:bedrock:[^/]+\/.+\/stop$/],
    ] as const;
    for (const [model, cancelPath] of cases) {
      const created = await ownClient.fineTuning.jobs.create({ model, training_file: file.id });
      await driveUntil(ownClient, created.id, new Set(["running"]));
      await ownClient.fineTuning.jobs.cancel(created.id);
      const done = await driveUntil(ownClient, created.id);
      expect(done).toMatchObject({ status: "cancelled", fine_tuned_model: null });
      const received = await upstreamRequests(own.scenario);
      expect(received.some((r) => r.method === "POST" && cancelPath.test(decodeURIComponent(r.path)))).toBe(true);
    }
  });
});

describe("checks before anything is uploaded", () => {
  const before = async () => (await upstreamRequests(ws.scenario)).length;

  it("refuses a file of another workspace, a file of another purpose, and a missing file", async () => {
    const other = await newWorkspace(tuningConfig);
    const theirs = await openAIClient(other.key).files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const count = await before();
    expect(await refusal(client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: theirs.id }))).toMatchObject({ status: 400, code: "file_not_found", param: "training_file" });
    const missing = await refusal(client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: "file-nope" }));
    expect(missing).toMatchObject({ status: 400, code: "file_not_found", param: "training_file" });
    // Another workspace's file and a missing one read alike.
    expect(bodyMessage(missing).replace("file-nope", theirs.id)).toBe(`training_file: no file ${theirs.id} in this workspace.`);
    const userData = await client.files.create({ file: dataset(trainingLines()), purpose: "user_data" });
    expect(await refusal(client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: userData.id }))).toMatchObject({ status: 400, code: "invalid_file_purpose", param: "training_file" });
    const training = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    expect(await refusal(client.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: training.id, validation_file: userData.id }))).toMatchObject({ status: 400, param: "validation_file" });
    expect(await before()).toBe(count);
  });

  it("refuses lines that fail the provider's format, naming the line and the field", async () => {
    const count = await before();
    const bad = async (model: string, lines: string[]) => refusal(client.fineTuning.jobs.create({ model, training_file: (await client.files.create({ file: dataset(lines), purpose: "fine-tune" })).id }));
    const notJson = await bad("openai/gpt-4o-mini", [...trainingLines(3), "{not json"]);
    expect(notJson).toMatchObject({ status: 400, code: "invalid_training_line", param: "training_file" });
    expect(bodyMessage(notJson)).toMatch(/^training_file line 4: not valid JSON/);
    const noAnswer = await bad("openai/gpt-4o-mini", [example(0), JSON.stringify({ messages: [{ role: "user", content: "hi" }] })]);
    expect(bodyMessage(noAnswer)).toBe("training_file line 2: messages: an example needs at least one assistant message to learn from");
    const badRole = await bad("openai/gpt-4o-mini", [JSON.stringify({ messages: [{ role: "narrator", content: "x" }, { role: "assistant", content: "y" }] })]);
    expect(bodyMessage(badRole)).toMatch(/^training_file line 1: messages\[0\]\.role: /);
    const weight = await bad("vertex/gemini-2.5-flash", [example(0), JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b", weight: 0 }, { role: "user", content: "c" }, { role: "assistant", content: "d" }] })]);
    expect(bodyMessage(weight)).toMatch(/^training_file line 2: messages\[1\]\.weight: Vertex AI trains on every model turn/);
    const endsWithUser = await bad("vertex/gemini-2.5-flash", [JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }] })]);
    expect(bodyMessage(endsWithUser)).toBe("training_file line 1: messages: the last message must be the assistant's: Vertex AI learns the model turns of each example");
    const multiTurn = await bad("bedrock/meta.llama3-1-8b-instruct-v1:0", [JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }, { role: "assistant", content: "d" }] })]);
    expect(bodyMessage(multiTurn)).toMatch(/^training_file line 1: messages: this model is tuned on single-turn examples/);
    const toolsOnBedrock = await bad("bedrock/amazon.nova-lite-v1:0", [JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }], tools: [{ type: "function", function: { name: "f" } }] })]);
    expect(bodyMessage(toolsOnBedrock)).toMatch(/^training_file line 1: tools: /);
    const preference = await bad("openai/gpt-4o-mini", [JSON.stringify({ input: { messages: [{ role: "user", content: "a" }] }, preferred_output: [{ role: "assistant", content: "b" }], non_preferred_output: [{ role: "assistant", content: "c" }] })]);
    expect(bodyMessage(preference)).toMatch(/^training_file line 1: a preference example, but this job trains on chat examples/);
    expect(await before()).toBe(count);
  });

  it("refuses a model the provider cannot tune, a method it lacks, a provider without fine-tuning and a missing bucket setting", async () => {
    const count = await before();
    const file = await client.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const create = (body: Partial<OpenAI.FineTuning.JobCreateParams>) => refusal(client.fineTuning.jobs.create({ training_file: file.id, model: "openai/gpt-4o-mini", ...body }));
    expect(await create({ model: "openai/o3" })).toMatchObject({ status: 400, code: "model_not_tunable", param: "model" });
    expect(await create({ model: "vertex/gemini-1.0-pro" })).toMatchObject({ status: 400, code: "model_not_tunable", param: "model" });
    expect(await create({ model: "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0" })).toMatchObject({ status: 400, code: "model_not_tunable", param: "model" });
    expect(await create({ model: "anthropic/claude-sonnet-4-5" })).toMatchObject({ status: 400, code: "fine_tuning_unsupported", param: "model" });
    expect(await create({ model: "vertex/gemini-2.5-flash", method: { type: "dpo" } })).toMatchObject({ status: 400, code: "method_not_supported", param: "method.type" });
    const noBucket = await create({ model: "vertex-nobucket/gemini-2.5-flash" });
    expect(noBucket).toMatchObject({ status: 400, code: "missing_bucket_setting", param: "model" });
    expect(noBucket.message).toContain('"tuningBucket"');
    const noS3Bucket = await create({ model: "bedrock-nobucket/amazon.nova-micro-v1:0" });
    expect(noS3Bucket).toMatchObject({ status: 400, code: "missing_bucket_setting", param: "model" });
    expect(noS3Bucket.message).toContain('"tuningBucket"');
    const noRole = await create({ model: "bedrock-norole/amazon.nova-micro-v1:0" });
    expect(noRole).toMatchObject({ status: 400, code: "missing_role_setting", param: "model" });
    expect(noRole.message).toContain('"tuningRoleArn"');
    expect(await create({ model: "nope/gpt-4o-mini" })).toMatchObject({ status: 404 });
    expect(await create({ model: "openai/gpt-4o-mini", integrations: [{ type: "wandb", wandb: { project: "x" } }] })).toMatchObject({ status: 400, param: "integrations" });
    expect(await before()).toBe(count);
  });
});

describe("tuned models belong to their workspace", () => {
  it("refuses another workspace's tuned model, prices the owner's calls at the fine-tuned price, and counts the training as a usage event", async () => {
    const owner = await newWorkspace(tuningConfig);
    const ownerClient = openAIClient(owner.key);
    const file = await ownerClient.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const done = await driveUntil(ownerClient, (await ownerClient.fineTuning.jobs.create({ model: "openai/gpt-4o-mini", training_file: file.id })).id);
    const model = `openai/${done.fine_tuned_model}`;

    // Same provider account, another workspace: refused as if the model did not exist, before any upstream call.
    const outsider = await newWorkspace(tuningConfig);
    const count = (await upstreamRequests(outsider.scenario)).length;
    const refused = await refusal(openAIClient(outsider.key).chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] }));
    expect(refused).toMatchObject({ status: 404, code: "model_not_found" });
    expect((await upstreamRequests(outsider.scenario)).length).toBe(count);

    const reply = await ownerClient.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
    const rows = await workspaceRows(owner.id, 2);
    const training = rows.find((r) => r.request_id === `${done.id}:training`)!;
    // gpt-4o-mini fine-tuning: $3 per 1M trained tokens.
    expect(training).toMatchObject({ provider: "openai", model: "gpt-4o-mini-2024-07-18", prompt_tokens: done.trained_tokens, outcome: "success" });
    expect(training.cost_usd).toBeCloseTo((done.trained_tokens! * 3) / 1_000_000, 12);
    const call = rows.find((r) => r.request_id !== training.request_id)!;
    // A tuned gpt-4o-mini: $0.30 in, $1.20 out per 1M tokens.
    expect(call.cost_usd).toBeCloseTo((reply.usage!.prompt_tokens * 0.3 + reply.usage!.completion_tokens * 1.2) / 1_000_000, 12);

    // The workspace's own price for the tuned model wins over the provider's fine-tuned price.
    const config = tuningConfig(owner.scenario);
    config.pricing = { [model]: { input: 10, output: 20 } };
    expect((await admin(`/workspaces/${owner.id}/config`, { method: "PUT", body: JSON.stringify(config) })).status).toBe(200);
    const priced = await ownerClient.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] }, { headers: { "x-request-id": `${owner.id}-override` } });
    const overridden = (await workspaceRows(owner.id, 3)).find((r) => r.client_request_id === `${owner.id}-override`)!;
    expect(overridden.cost_usd).toBeCloseTo((priced.usage!.prompt_tokens * 10 + priced.usage!.completion_tokens * 20) / 1_000_000, 12);
  });

  it("prices a Vertex tuned endpoint at its base model's price, and leaves a Bedrock custom model unpriced (null, never 0)", async () => {
    const owner = await newWorkspace(tuningConfig);
    const ownerClient = openAIClient(owner.key);
    const file = await ownerClient.files.create({ file: dataset(trainingLines()), purpose: "fine-tune" });
    const vertexJob = await driveUntil(ownerClient, (await ownerClient.fineTuning.jobs.create({ model: "vertex/gemini-2.0-flash-001", training_file: file.id })).id);
    const bedrockJob = await driveUntil(ownerClient, (await ownerClient.fineTuning.jobs.create({ model: "bedrock/amazon.nova-micro-v1:0", training_file: file.id })).id);
    const vertexReply = await ownerClient.chat.completions.create({ model: `vertex/${vertexJob.fine_tuned_model}`, messages: [{ role: "user", content: "hi" }] }, { headers: { "x-request-id": `${owner.id}-vertex` } });
    await ownerClient.chat.completions.create({ model: `bedrock/${bedrockJob.fine_tuned_model}`, messages: [{ role: "user", content: "hi" }] }, { headers: { "x-request-id": `${owner.id}-bedrock` } });
    const rows = await workspaceRows(owner.id, 2);
    const vertexRow = rows.find((r) => r.client_request_id === `${owner.id}-vertex`)!;
    // gemini-2.0-flash-001 tuned on Vertex AI: $0.15 in, $0.60 out per 1M tokens, as the base model.
    expect(vertexRow.cost_usd).toBeCloseTo((vertexReply.usage!.prompt_tokens * 0.15 + vertexReply.usage!.completion_tokens * 0.6) / 1_000_000, 12);
    expect(rows.find((r) => r.client_request_id === `${owner.id}-bedrock`)!.cost_usd).toBeNull();
    // No trained-token figure from Vertex without a set epoch count, none from Bedrock: no training events.
    expect(rows.filter((r) => r.request_id.endsWith(":training"))).toEqual([]);
  });
});
