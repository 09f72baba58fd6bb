import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { TEST_AWS_CREDENTIALS, TEST_PROVIDER_KEYS } from "../fixtures";
import { newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests, type TestWorkspace } from "../helpers";
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
async function driveUntil(client: OpenAI, id: string, statuses: ReadonlySet<string> = FINAL): Promise<OpenAI.FineTuning.FineTuningJob> {
  for (let step = 0; step < 40; step++) {
    const job = await client.fineTuning.jobs.retrieve(id);
    if (statuses.has(job.status)) return job;
    if (!(await runDurableObjectAlarm(env.FINE_TUNING_DRIVER.getByName(id)))) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${id} did not reach ${[...statuses].join("/")}`);
}

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

void TEST_AWS_CREDENTIALS;
void workspaceRows;
