import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { admin, anthropicClient, newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests, type TestWorkspace } from "../helpers";
import { workspaceRows } from "../usage/usage-helpers";

/**
 * Batches end to end through the official SDKs: /v1/batches relayed natively to OpenAI, Azure OpenAI and
 * Anthropic (simulators speaking their batch APIs), the Anthropic SDK's messages.batches on the same machinery,
 * cancel / fail / expire, usage per line, and the checks at create time. The batch's Durable Object is driven
 * with runDurableObjectAlarm instead of waiting for its poll interval.
 */

function batchConfig(scenario: string): GatewayConfigInput {
  const origin = simulatorOrigin();
  return {
    providers: {
      openai: { type: "openai", baseURL: `${origin}/s/${scenario}/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
      anthropic: { type: "anthropic", baseURL: `${origin}/s/${scenario}/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } },
      azure: { type: "azure", baseURL: `${origin}/s/${scenario}/azure`, apiKey: { env: "AZURE_API_KEY" } },
      gemini: { type: "gemini", baseURL: `${origin}/s/${scenario}/gemini`, apiKey: { env: "GEMINI_API_KEY" } },
      vertex: {
        type: "vertex",
        project: "switchyard-sim",
        location: "us-east5",
        serviceAccount: { env: "VERTEX_SERVICE_ACCOUNT" },
        tokenURL: `${origin}/s/${scenario}/vertex/token`,
        baseURL: `${origin}/s/${scenario}/vertex`,
        storageURL: `${origin}/s/${scenario}/vertex`,
        batchBucket: "switchyard-batches",
      },
      compat: { type: "openai-compatible", baseURL: `${origin}/s/${scenario}/compat/v1`, apiKey: { env: "COMPAT_API_KEY" } },
    },
    routes: {
      smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } },
      claude: { strategy: "single", target: { provider: "anthropic", model: "claude-sonnet-4-5" } },
      "vertex-flash": { strategy: "single", target: { provider: "vertex", model: "gemini-2.0-flash" } },
      flash: { strategy: "single", target: { provider: "gemini", model: "gemini-2.5-flash" } },
      "azure-mini": { strategy: "single", target: { provider: "azure", model: "mini-dev" } },
      resilient: { strategy: "fallback", targets: [{ provider: "openai", model: "gpt-4o-mini" }, { provider: "anthropic", model: "claude-sonnet-4-5" }] },
      "run-here": { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, batch: { mode: "gateway" } },
      local: { strategy: "single", target: { provider: "compat", model: "llama" } },
      "vertex-claude": { strategy: "single", target: { provider: "vertex", model: "claude-sonnet-4-5" } },
    },
  };
}

const chatLine = (id: string, model: string, text = `hello ${id}`, url = "/v1/chat/completions") =>
  JSON.stringify({ custom_id: id, method: "POST", url, body: { model, messages: [{ role: "user", content: text }], max_tokens: 50 } });

const jsonl = (...lines: string[]) => new File([lines.join("\n") + "\n"], "input.jsonl");

const FINAL = new Set(["completed", "failed", "expired", "cancelled"]);

/**
 * Runs the batch's driver until the batch reaches one of `statuses` (each alarm is one step: submit, poll,
 * finalize). The first alarm may already be running on its own: then this waits for it.
 */
async function driveUntil(client: OpenAI, id: string, statuses: ReadonlySet<string>): Promise<OpenAI.Batches.Batch> {
  for (let step = 0; step < 40; step++) {
    const batch = await client.batches.retrieve(id);
    if (statuses.has(batch.status)) return batch;
    if (!(await runDurableObjectAlarm(env.BATCH_DRIVER.getByName(id)))) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`batch ${id} did not reach ${[...statuses].join("/")}`);
}

const driveToEnd = (client: OpenAI, id: string) => driveUntil(client, id, FINAL);

/** A line of a batch's output or error file, as OpenAI's Batch API writes it (the fields these tests read). */
type BatchFileLine = {
  custom_id: string;
  response: { status_code: number; body: { model?: string; choices?: { message: { content: string } }[]; data?: { embedding: number[] }[] } };
  error: { code: string } | null;
};

async function fileLines(client: OpenAI, fileId: string | null | undefined): Promise<BatchFileLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as BatchFileLine);
}

async function expectRefused(promise: Promise<unknown>, expected: { status: number; code?: string; param?: string; message?: RegExp }) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  const apiError = error as InstanceType<typeof OpenAI.APIError>;
  expect({ status: apiError.status, ...(expected.code ? { code: apiError.code } : {}), ...(expected.param ? { param: apiError.param } : {}) }).toEqual({
    status: expected.status,
    ...(expected.code ? { code: expected.code } : {}),
    ...(expected.param ? { param: expected.param } : {}),
  });
  if (expected.message) expect(apiError.message).toMatch(expected.message);
}

let ws: TestWorkspace;
let client: OpenAI;
beforeAll(async () => {
  ws = await newWorkspace(batchConfig);
  client = openAIClient(ws.key);
});

describe("native batches through the OpenAI SDK", () => {
  it("relays to OpenAI's batch API with models rewritten, and returns OpenAI's result files, one line per custom_id", async () => {
    const input = await client.files.create({ file: jsonl(chatLine("a", "smart"), chatLine("b", "openai/gpt-4o-mini"), chatLine("c", "smart", "please [fail]")), purpose: "batch" });
    const created = await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { team: "search" } });
    expect(created).toMatchObject({ object: "batch", status: "validating", input_file_id: input.id, endpoint: "/v1/chat/completions", metadata: { team: "search" }, request_counts: { total: 3, completed: 0, failed: 0 } });
    expect((await client.batches.list()).data.map((b) => b.id)).toContain(created.id);

    const done = await driveToEnd(client, created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 2, failed: 1 } });
    expect(done.in_progress_at).toBeTypeOf("number");
    expect(done.completed_at).toBeTypeOf("number");
    // The provider's own batch and file ids never reach the client.
    expect(JSON.stringify(done)).not.toMatch(/batch_sim|file-sim/);

    const output = await fileLines(client, done.output_file_id);
    expect(output.map((l) => l.custom_id).sort()).toEqual(["a", "b"]);
    for (const line of output) {
      expect(line.response.status_code).toBe(200);
      expect(line.response.body).toMatchObject({ object: "chat.completion", model: "gpt-4o-mini" });
      expect(line.response.body.choices?.[0]?.message.content).toContain(`hello ${line.custom_id}`);
    }
    const errors = await fileLines(client, done.error_file_id);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ custom_id: "c", response: { status_code: 400, body: { error: { type: "invalid_request_error" } } } });

    // The provider got its own model name in every line, never the route's.
    const upload = (await upstreamRequests(ws.scenario)).find((r) => r.method === "POST" && r.path === "/v1/files");
    expect(String(upload?.body)).toContain('"model":"gpt-4o-mini"');
    expect(String(upload?.body)).not.toContain('"model":"smart"');
  });

  it("records every line as a usage event of its batch, at the batch price, grouped by batch", async () => {
    const fresh = await newWorkspace(batchConfig);
    const freshClient = openAIClient(fresh.key);
    const input = await freshClient.files.create({ file: jsonl(chatLine("x", "smart"), chatLine("y", "smart", "and [fail]")), purpose: "batch" });
    const batch = await driveToEnd(freshClient, (await freshClient.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    const rows = await workspaceRows(fresh.id, 2);
    expect(rows.map((r) => r.request_id).sort()).toEqual([`${batch.id}:0`, `${batch.id}:1`]);
    const answered = rows.find((r) => r.outcome === "success")!;
    // gpt-4o-mini: $0.15 / $0.60 per 1M tokens interactive; the Batch API bills half.
    expect(answered.cost_usd).toBeCloseTo(((answered.prompt_tokens * 0.15 + answered.completion_tokens * 0.6) / 1_000_000) * 0.5, 12);
    expect(rows.find((r) => r.outcome === "error")).toMatchObject({ status: 400, cost_usd: 0 });

    const report = (await (await admin(`/workspaces/${fresh.id}/usage?from=2000-01-01&groupBy=batch`)).json()) as { groups: { key: string; requests: number; errors: number; costUsd: number }[] };
    expect(report.groups).toEqual([expect.objectContaining({ key: batch.id, requests: 2, errors: 1, costUsd: expect.closeTo(answered.cost_usd!, 12) })]);
  });

  it("runs an embeddings batch natively, answering OpenAI's embeddings list per line", async () => {
    const line = (id: string) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/embeddings", body: { model: "openai/text-embedding-3-small", input: `text ${id}` } });
    const input = await client.files.create({ file: jsonl(line("e1"), line("e2")), purpose: "batch" });
    const done = await driveToEnd(client, (await client.batches.create({ input_file_id: input.id, endpoint: "/v1/embeddings", completion_window: "24h" })).id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 2, failed: 0 } });
    for (const answer of await fileLines(client, done.output_file_id)) {
      expect(answer.response.body).toMatchObject({ object: "list", model: "text-embedding-3-small", data: [{ object: "embedding", index: 0 }] });
      expect(answer.response.body.data?.[0]?.embedding).toHaveLength(8);
    }
  });

  it("relays to Azure OpenAI's Global Batch with the deployment as the model", async () => {
    const input = await client.files.create({ file: jsonl(chatLine("az-1", "azure-mini"), chatLine("az-2", "azure-mini")), purpose: "batch" });
    const done = await driveToEnd(client, (await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 2, failed: 0 } });
    const output = await fileLines(client, done.output_file_id);
    expect(output.map((l) => l.response.body.model)).toEqual(["gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18"]);
    const created = (await upstreamRequests(ws.scenario)).find((r) => r.method === "POST" && r.path.startsWith("/openai/batches?api-version="));
    expect(created?.body).toMatchObject({ endpoint: "/chat/completions", completion_window: "24h" });
  });

  it("relays to Anthropic's Message Batches and answers in OpenAI's chat format", async () => {
    const input = await client.files.create({ file: jsonl(chatLine("m-1", "claude"), chatLine("m-2", "claude", "no [fail] please")), purpose: "batch" });
    const done = await driveToEnd(client, (await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 1, failed: 1 } });
    const [answer] = await fileLines(client, done.output_file_id);
    expect(answer).toMatchObject({ custom_id: "m-1", response: { status_code: 200, body: { object: "chat.completion", model: "claude-sonnet-4-5" } } });
    const [failure] = await fileLines(client, done.error_file_id);
    expect(failure).toMatchObject({ custom_id: "m-2", response: { status_code: 400 } });
    const submitted = (await upstreamRequests(ws.scenario)).find((r) => r.method === "POST" && r.path === "/v1/messages/batches");
    expect(submitted?.body).toMatchObject({ requests: [{ custom_id: "r0", params: { model: "claude-sonnet-4-5", max_tokens: 50 } }, { custom_id: "r1" }] });
  });
});

describe("native batches on Google", () => {
  it("relays to the Gemini API's Batch Mode: the file uploaded resumably, responses read back by key", async () => {
    const input = await client.files.create({ file: jsonl(chatLine("g-1", "flash"), chatLine("g-2", "flash", "a [fail] here"), chatLine("g-3", "gemini/gemini-2.5-flash")), purpose: "batch" });
    const done = await driveToEnd(client, (await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 2, failed: 1 } });
    const output = await fileLines(client, done.output_file_id);
    expect(output.map((l) => l.custom_id).sort()).toEqual(["g-1", "g-3"]);
    expect(output[0]!.response.body).toMatchObject({ object: "chat.completion", model: "gemini-2.5-flash" });
    expect(output[0]?.response.body.choices?.[0]?.message.content).toContain("hello g-");
    expect((await fileLines(client, done.error_file_id))[0]).toMatchObject({ custom_id: "g-2", response: { status_code: 400 } });
    const requests = await upstreamRequests(ws.scenario);
    expect(requests.some((r) => r.headers["x-goog-upload-command"] === "upload, finalize")).toBe(true);
    expect(requests.find((r) => r.path.includes(":batchGenerateContent"))?.path).toBe("/v1beta/models/gemini-2.5-flash:batchGenerateContent");
  });
});

describe("native batches on Vertex AI", () => {
  it("writes the lines to Cloud Storage, runs a batch prediction job and reads its predictions back by label", async () => {
    const input = await client.files.create({ file: jsonl(chatLine("v-1", "vertex-flash"), chatLine("v-2", "vertex-flash", "[fail] me")), purpose: "batch" });
    const done = await driveToEnd(client, (await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 1, failed: 1 } });
    const [answer] = await fileLines(client, done.output_file_id);
    expect(answer).toMatchObject({ custom_id: "v-1", response: { status_code: 200, body: { object: "chat.completion", model: "gemini-2.0-flash" } } });
    expect((await fileLines(client, done.error_file_id))[0]).toMatchObject({ custom_id: "v-2", response: { status_code: 400 } });
    const job = (await upstreamRequests(ws.scenario)).find((r) => r.method === "POST" && r.path.endsWith("/batchPredictionJobs"));
    expect(job?.body).toMatchObject({ model: "publishers/google/models/gemini-2.0-flash", inputConfig: { instancesFormat: "jsonl", gcsSource: { uris: [expect.stringMatching(/^gs:\/\/switchyard-batches\//)] } } });
  });
});

describe("batches that do not complete", () => {
  it("cancels: the provider batch is cancelled and every unfinished line is reported batch_cancelled", async () => {
    const held = await newWorkspace(batchConfig);
    await scriptFaults(held.scenario, [], { batch: "hold" });
    const heldClient = openAIClient(held.key);
    const input = await heldClient.files.create({ file: jsonl(chatLine("h-1", "smart"), chatLine("h-2", "smart")), purpose: "batch" });
    const created = await heldClient.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await driveUntil(heldClient, created.id, new Set(["in_progress"]));
    expect((await heldClient.batches.cancel(created.id)).status).toBe("cancelling");
    const done = await driveToEnd(heldClient, created.id);
    expect(done).toMatchObject({ status: "cancelled", request_counts: { total: 2, completed: 0, failed: 2 } });
    expect((await fileLines(heldClient, done.error_file_id)).map((l) => l.error?.code)).toEqual(["batch_cancelled", "batch_cancelled"]);
    expect((await upstreamRequests(held.scenario)).some((r) => r.method === "POST" && /\/v1\/batches\/[^/]+\/cancel$/.test(r.path))).toBe(true);
    await expectRefused(heldClient.batches.cancel(created.id).then(() => heldClient.batches.retrieve(created.id)).then((b) => (b.status === "cancelled" ? Promise.reject(new OpenAI.APIError(400, { code: "ok" }, "ok", new Headers())) : b)), { status: 400 });
  });

  it("fails with the provider's reason, credentials redacted", async () => {
    const failing = await newWorkspace(batchConfig);
    await scriptFaults(failing.scenario, [], { batch: "fail" });
    const failingClient = openAIClient(failing.key);
    const input = await failingClient.files.create({ file: jsonl(chatLine("f-1", "smart")), purpose: "batch" });
    const done = await driveToEnd(failingClient, (await failingClient.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    expect(done.status).toBe("failed");
    expect(done.errors?.data?.[0]?.message).toMatch(/quota exhausted/);
    expect(JSON.stringify(done)).not.toContain("sk-sim-openai-secret-value");
    expect(done.errors?.data?.[0]?.message).toContain("[redacted]");
  });

  it("expires: lines the provider never ran are reported batch_expired", async () => {
    const late = await newWorkspace(batchConfig);
    await scriptFaults(late.scenario, [], { batch: "expire" });
    const lateClient = openAIClient(late.key);
    const input = await lateClient.files.create({ file: jsonl(chatLine("e-1", "smart"), chatLine("e-2", "smart")), purpose: "batch" });
    const done = await driveToEnd(lateClient, (await lateClient.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    expect(done).toMatchObject({ status: "expired", request_counts: { total: 2, completed: 1, failed: 1 } });
    expect((await fileLines(lateClient, done.error_file_id)).map((l) => [l.custom_id, l.error?.code])).toEqual([["e-2", "batch_expired"]]);
  });
});

describe("Anthropic's messages.batches on the same machinery", () => {
  it("creates, retrieves, lists and reads results in Anthropic's shapes, on Anthropic and on OpenAI", async () => {
    const anthropic = anthropicClient(ws.key);
    const params = (model: string, text: string) => ({ model, max_tokens: 64, messages: [{ role: "user" as const, content: text }] });
    const created = await anthropic.messages.batches.create({
      requests: [
        { custom_id: "first", params: params("claude", "Hi Claude") },
        { custom_id: "second", params: params("claude", "and [fail] this") },
      ],
    });
    expect(created).toMatchObject({ type: "message_batch", processing_status: "in_progress", request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 } });
    await driveToEnd(client, created.id);
    const ended = await anthropic.messages.batches.retrieve(created.id);
    expect(ended).toMatchObject({ processing_status: "ended", request_counts: { processing: 0, succeeded: 1, errored: 1 } });
    expect(ended.results_url).toContain(`/v1/messages/batches/${created.id}/results`);
    const results: Record<string, unknown> = {};
    for await (const entry of await anthropic.messages.batches.results(created.id)) results[entry.custom_id] = entry.result;
    expect(results.first).toMatchObject({ type: "succeeded", message: { type: "message", role: "assistant", model: "claude-sonnet-4-5" } });
    expect(results.first).toMatchObject({ message: { content: [{ text: expect.stringContaining("Hi Claude") }] } });
    expect(results.second).toMatchObject({ type: "errored", error: { type: "error", error: { type: "invalid_request_error" } } });
    const listed = [];
    for await (const batch of anthropic.messages.batches.list()) listed.push(batch.id);
    expect(listed).toContain(created.id);

    // The Messages dialect on an OpenAI model: lines translated to OpenAI's batch, answers back as Anthropic messages.
    const onOpenAI = await anthropic.messages.batches.create({ requests: [{ custom_id: "gpt", params: params("smart", "Hi GPT") }] });
    await driveToEnd(client, onOpenAI.id);
    for await (const entry of await anthropic.messages.batches.results(onOpenAI.id)) {
      expect(entry).toMatchObject({ custom_id: "gpt", result: { type: "succeeded", message: { type: "message", model: "gpt-4o-mini" } } });
    }
  });

  it("refuses bad requests in Anthropic's error shape, naming the request", async () => {
    const anthropic = anthropicClient(ws.key);
    const error = await anthropic.messages.batches
      .create({ requests: [{ custom_id: "ok", params: { model: "claude", max_tokens: 5, messages: [{ role: "user", content: "x" }] } }, { custom_id: "bad", params: { model: "nope/nope", max_tokens: 5, messages: [{ role: "user", content: "x" }] } }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, error: { type: "error", error: { type: "invalid_request_error" } } });
    expect(String((error as Error).message)).toMatch(/requests\.1/);
  });
});

describe("create-time checks: 400 naming the line or field, nothing created", () => {
  let fresh: TestWorkspace;
  let freshClient: OpenAI;
  beforeAll(async () => {
    fresh = await newWorkspace(batchConfig);
    freshClient = openAIClient(fresh.key);
  });

  const upload = (...lines: string[]) => freshClient.files.create({ file: jsonl(...lines), purpose: "batch" }).then((f) => f.id);
  const create = async (fileId: string, endpoint: "/v1/chat/completions" | "/v1/embeddings" = "/v1/chat/completions") =>
    freshClient.batches.create({ input_file_id: fileId, endpoint, completion_window: "24h" });

  const cases: { name: string; run: () => Promise<unknown>; status?: number; code?: string; param?: string; message?: RegExp }[] = [
    { name: "a line for another endpoint", run: async () => create(await upload(chatLine("a", "smart")), "/v1/embeddings"), param: "url", message: /Line 1/ },
    { name: "an unknown model", run: async () => create(await upload(chatLine("a", "smart"), chatLine("b", "nobody/knows"))), code: "model_not_found", param: "body.model", message: /Line 2/ },
    { name: "a body that is not a chat request", run: async () => create(await upload(JSON.stringify({ custom_id: "a", method: "POST", url: "/v1/chat/completions", body: { model: "smart" } }))), param: "body.messages", message: /Line 1/ },
    { name: "lines on two providers", run: async () => create(await upload(chatLine("a", "smart"), chatLine("b", "claude"))), code: "batch_mixed_targets", message: /Line 2/ },
    { name: "a route with fallbacks (native needs one target)", run: async () => create(await upload(chatLine("a", "resilient"))), code: "batch_route_not_native" },
    { name: "a gateway-mode route and a native model in one batch", run: async () => create(await upload(chatLine("a", "run-here"), chatLine("b", "openai/gpt-4o-mini"))), code: "batch_mixed_targets", message: /Line 2/ },
    { name: "Claude on Vertex AI (no native relay yet)", run: async () => create(await upload(chatLine("a", "vertex-claude"))), code: "batch_unsupported" },
    { name: "a provider without a batch API", run: async () => create(await upload(chatLine("a", "local"))), code: "batch_unsupported" },
    { name: "a file of the wrong purpose", run: async () => create((await freshClient.files.create({ file: jsonl(chatLine("a", "smart")), purpose: "user_data" })).id), code: "invalid_file_purpose", param: "input_file_id" },
    { name: "a file of another workspace", run: async () => create((await client.files.create({ file: jsonl(chatLine("a", "smart")), purpose: "batch" })).id), status: 404, code: "file_not_found", param: "input_file_id" },
    { name: "an endpoint that is not a batch endpoint", run: async () => freshClient.batches.create({ input_file_id: await upload(chatLine("a", "smart")), endpoint: "/v1/completions", completion_window: "24h" }), param: "endpoint" },
    { name: "a completion window other than 24h", run: async () => freshClient.batches.create({ input_file_id: await upload(chatLine("a", "smart")), endpoint: "/v1/chat/completions", completion_window: "1h" as "24h" }), param: "completion_window" },
  ];
  for (const testCase of cases) {
    it(`refuses ${testCase.name}`, async () => {
      await expectRefused(testCase.run(), { status: testCase.status ?? 400, ...testCase });
      expect((await freshClient.batches.list()).data).toEqual([]);
    });
  }

  it("a batch of another workspace is not found", async () => {
    const input = await client.files.create({ file: jsonl(chatLine("a", "smart")), purpose: "batch" });
    const theirs = await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await expectRefused(freshClient.batches.retrieve(theirs.id), { status: 404 });
    await expectRefused(freshClient.batches.cancel(theirs.id), { status: 404 });
  });
});
