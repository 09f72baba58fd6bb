import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { MessageBatchIndividualResponse } from "@anthropic-ai/sdk/resources/messages/batches";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { CLAIM_TTL_MS, LineBook, RESEND_AFTER_MS } from "../../src/batches/line-book";
import { BATCH_LINES_QUEUE, type BatchLineMessage } from "../../src/batches/line-messages";
import type { GatewayConfigInput } from "../../src/config/schema";
import { batchKeyOf } from "../../src/policy/auth";
import { GATEWAY_ORIGIN, admin, anthropicClient, callGateway, workerFetch, newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests, type TestWorkspace } from "../helpers";
import { workspaceRows } from "../usage/usage-helpers";

/**
 * Gateway-run batches end to end: the batch-lines Queue's real consumer runs each line through the gateway's
 * pipeline against the simulators; the batch's Durable Object is nudged with runDurableObjectAlarm instead of
 * waiting for its progress interval.
 */

const CLAUDE_ON_BEDROCK = "anthropic.claude-3-5-haiku-20241022-v1:0";

function gatewayConfig(scenario: string): GatewayConfigInput {
  const origin = simulatorOrigin();
  return {
    providers: {
      openai: { type: "openai", baseURL: `${origin}/s/${scenario}/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
      down: { type: "openai", baseURL: `${origin}/s/${scenario}-down/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
      other: { type: "openai", baseURL: `${origin}/s/${scenario}-other/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
      anthropic: { type: "anthropic", baseURL: `${origin}/s/${scenario}/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } },
      aws: { type: "bedrock", region: "us-east-1", accessKeyId: { env: "AWS_ACCESS_KEY_ID" }, secretAccessKey: { env: "AWS_SECRET_ACCESS_KEY" }, baseURL: `${origin}/s/${scenario}/bedrock` },
      compat: { type: "openai-compatible", baseURL: `${origin}/s/${scenario}/compat/strict/v1`, apiKey: { env: "COMPAT_API_KEY" } },
      vertex: { type: "vertex", project: "switchyard-sim", location: "us-east5", serviceAccount: { env: "VERTEX_SERVICE_ACCOUNT" }, tokenURL: `${origin}/s/${scenario}/vertex/token`, baseURL: `${origin}/s/${scenario}/vertex` },
    },
    guardrails: {
      policies: {
        careful: {
          input: [
            { name: "codenames", deny: { words: ["Project Apollo"] }, action: "block" },
            { name: "pii", detect: ["email"], action: "redact" },
          ],
        },
      },
      routes: { guarded: "careful" },
    },
    routes: {
      guarded: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, batch: { mode: "gateway" } },
      here: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, batch: { mode: "gateway" } },
      rescued: { strategy: "fallback", targets: [{ provider: "down", model: "gpt-4o-mini" }, { provider: "anthropic", model: "claude-sonnet-4-5" }], retry: { attempts: 1 }, batch: { mode: "gateway" } },
      claude: { strategy: "single", target: { provider: "aws", model: CLAUDE_ON_BEDROCK }, batch: { mode: "gateway" } },
      spread: { strategy: "loadbalance", targets: [{ provider: "openai", model: "gpt-4o-mini" }, { provider: "other", model: "gpt-4o-mini" }], batch: { mode: "gateway" } },
      cached: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, cache: { mode: "exact", ttl: 600 }, batch: { mode: "gateway" } },
    },
  };
}

const chatLine = (id: string, model: string, text = `hello ${id}`) =>
  JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: text }], max_tokens: 50 } });

const jsonl = (...lines: string[]) => new File([lines.join("\n") + "\n"], "input.jsonl");

const FINAL = new Set(["completed", "failed", "expired", "cancelled"]);

/** Waits for the batch to reach one of `statuses`, running its driver's alarm between looks. */
async function driveUntil(client: OpenAI, id: string, statuses: ReadonlySet<string>): Promise<OpenAI.Batches.Batch> {
  for (let step = 0; step < 400; step++) {
    const batch = await client.batches.retrieve(id);
    if (statuses.has(batch.status)) return batch;
    await runDurableObjectAlarm(env.BATCH_DRIVER.getByName(id));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`batch ${id} did not reach ${[...statuses].join("/")}`);
}

const driveToEnd = (client: OpenAI, id: string) => driveUntil(client, id, FINAL);

/** A line of a batch's output or error file, as OpenAI's Batch API writes it (the fields these tests read). */
type BatchFileLine = {
  custom_id: string;
  response: { status_code: number; request_id: string; body: { object: string; model: string; choices: { message: { content: string } }[] } };
  error: { code: string } | null;
};

async function fileLines(client: OpenAI, fileId: string | null | undefined): Promise<BatchFileLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as BatchFileLine);
}

async function createBatch(client: OpenAI, ...lines: string[]) {
  const input = await client.files.create({ file: jsonl(...lines), purpose: "batch" });
  return client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
}

let ws: TestWorkspace;
let client: OpenAI;
beforeAll(async () => {
  ws = await newWorkspace(gatewayConfig);
  client = openAIClient(ws.key);
});

/** The batch's line book as its driver holds it (src/batches/line-book.ts). */
type LineRow = { idx: number; state: string; offset: number; length: number; sent_at: number | null; claim_message: string | null; claim_attempt: number | null };
const lineRows = (batchId: string) =>
  runInDurableObject(env.BATCH_DRIVER.getByName(batchId), (_instance, state) => {
    // The driver creates its line book on its first step.
    const made = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'bd_lines'").toArray().length > 0;
    return made ? state.storage.sql.exec<LineRow>("SELECT idx, state, offset, length, sent_at, claim_message, claim_attempt FROM bd_lines ORDER BY idx").toArray() : [];
  });

async function lineRowsWhen(batchId: string, ready: (rows: LineRow[]) => boolean): Promise<LineRow[]> {
  for (let i = 0; i < 300; i++) {
    const rows = await lineRows(batchId);
    if (ready(rows)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the lines of ${batchId} never got there: ${JSON.stringify(await lineRows(batchId))}`);
}

const chatsOf = async (scenario: string) => (await upstreamRequests(scenario)).filter((r) => r.method === "POST" && r.path === "/v1/chat/completions");
const promptOf = (request: { body: Record<string, unknown> }) => JSON.stringify(request.body.messages);

describe("gateway-run batches through the OpenAI SDK", () => {
  it("runs every line through the route and writes OpenAI's result files, one line per custom_id, each line a usage event of its batch at its price", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    const freshClient = openAIClient(fresh.key);
    const created = await createBatch(freshClient, chatLine("a", "here"), chatLine("b", "here"), chatLine("c", "here"));
    expect(created).toMatchObject({ status: "validating", request_counts: { total: 3, completed: 0, failed: 0 } });
    const done = await driveToEnd(freshClient, created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 3, failed: 0 } });
    expect(done.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
    const output = await fileLines(freshClient, done.output_file_id);
    expect(output.map((l) => l.custom_id)).toEqual(["a", "b", "c"]);
    for (const line of output) {
      expect(line).toMatchObject({ response: { status_code: 200, request_id: expect.stringMatching(new RegExp(`^${created.id}:\\d$`)), body: { object: "chat.completion", model: "gpt-4o-mini" } }, error: null });
      expect(line.response.body.choices[0]!.message.content).toContain(`hello ${line.custom_id}`);
    }
    expect(done.error_file_id).toBeNull();
    expect(await chatsOf(fresh.scenario)).toHaveLength(3);
    expect((await freshClient.batches.list()).data.map((b) => [b.id, b.status])).toEqual([[created.id, "completed"]]);

    const rows = await workspaceRows(fresh.id, 3);
    expect(rows.map((r) => r.request_id).sort()).toEqual([0, 1, 2].map((i) => `${created.id}:${i}`));
    const batchIds = await env.USAGE_DB.prepare("SELECT DISTINCT batch_id FROM usage_events WHERE workspace_id = ?").bind(fresh.id).all<{ batch_id: string }>();
    expect(batchIds.results).toEqual([{ batch_id: created.id }]);
    // The lines went to OpenAI's interactive API, which bills its interactive price: $0.15 / $0.60 per 1M tokens.
    for (const row of rows) expect(row.cost_usd).toBeCloseTo((row.prompt_tokens * 0.15 + row.completion_tokens * 0.6) / 1_000_000, 12);
    expect(done.usage!.input_tokens).toBe(rows.reduce((sum, r) => sum + r.prompt_tokens, 0));
    const report = (await (await admin(`/workspaces/${fresh.id}/usage?from=2000-01-01&groupBy=batch`)).json()) as { groups: { key: string; requests: number }[] };
    expect(report.groups).toEqual([expect.objectContaining({ key: created.id, requests: 3 })]);
  });

  it("runs a route with a fallback whose primary fails: every line answered by the fallback, the attempts on its usage event", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    await scriptFaults(`${fresh.scenario}-down`, [], { status: 500, message: "primary down" });
    const freshClient = openAIClient(fresh.key);
    const done = await driveToEnd(freshClient, (await createBatch(freshClient, chatLine("r1", "rescued"), chatLine("r2", "rescued"))).id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 2, failed: 0 } });
    for (const line of await fileLines(freshClient, done.output_file_id)) {
      expect(line.response).toMatchObject({ status_code: 200, body: { object: "chat.completion", model: "claude-sonnet-4-5" } });
    }
    expect((await upstreamRequests(`${fresh.scenario}-down`)).length).toBeGreaterThanOrEqual(2);
    const rows = await workspaceRows(fresh.id, 2);
    for (const row of rows) {
      expect(row).toMatchObject({ provider: "anthropic", model: "claude-sonnet-4-5", rescued: 1, outcome: "success" });
      expect(JSON.parse(row.attempts)[0]).toMatchObject({ provider: "down", status: 500 });
    }
  });

  it("runs providers without a batch API: Bedrock through a route, the OpenAI-compatible family and Claude on Vertex AI by provider/model", async () => {
    const onBedrock = await driveToEnd(client, (await createBatch(client, chatLine("b1", "claude"), chatLine("b2", "claude"))).id);
    expect(onBedrock).toMatchObject({ status: "completed", request_counts: { completed: 2, failed: 0 } });
    expect((await fileLines(client, onBedrock.output_file_id)).map((l) => l.response.body.model)).toEqual([CLAUDE_ON_BEDROCK, CLAUDE_ON_BEDROCK]);
    const converse = (await upstreamRequests(ws.scenario)).filter((r) => r.path.endsWith("/converse"));
    expect(converse.map((r) => r.headers.authorization)).toEqual([expect.stringMatching(/^AWS4-HMAC-SHA256 /), expect.stringMatching(/^AWS4-HMAC-SHA256 /)]);

    // No route, no batch setting: a provider/model without a native batch API runs in gateway mode.
    const compat = await driveToEnd(client, (await createBatch(client, chatLine("c1", "compat/llama"))).id);
    expect(compat).toMatchObject({ status: "completed", request_counts: { completed: 1 } });
    expect((await fileLines(client, compat.output_file_id))[0]!.response.body).toMatchObject({ object: "chat.completion", model: "llama" });

    const vertex = await driveToEnd(client, (await createBatch(client, chatLine("v1", "vertex/claude-sonnet-4-5"))).id);
    expect(vertex).toMatchObject({ status: "completed", request_counts: { completed: 1 } });
    expect((await fileLines(client, vertex.output_file_id))[0]!.response.body.model).toBe("claude-sonnet-4-5");
    expect((await upstreamRequests(ws.scenario)).some((r) => r.path.includes("/publishers/anthropic/models/claude-sonnet-4-5:rawPredict"))).toBe(true);
  });

  it("puts every line through the route's guardrails: a blocked line fails with the guardrail's error, a redacted one reaches the provider redacted", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    const freshClient = openAIClient(fresh.key);
    const done = await driveToEnd(
      freshClient,
      (await createBatch(freshClient, chatLine("secret", "guarded", "Status of Project Apollo?"), chatLine("mail", "guarded", "Write to jane.doe@example.com please"))).id,
    );
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 1, failed: 1 } });
    const [blocked] = await fileLines(freshClient, done.error_file_id);
    expect(blocked).toMatchObject({ custom_id: "secret", response: { status_code: 400, body: { error: { type: "guardrail" } } } });
    const chats = await chatsOf(fresh.scenario);
    expect(chats).toHaveLength(1);
    expect(promptOf(chats[0]!)).not.toContain("jane.doe@example.com");
  });

  it("cancels mid-way: lines not yet started never run, lines that ran keep their answers, the rest are reported batch_cancelled", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    await scriptFaults(fresh.scenario, [], { delayMs: 1_500 });
    const freshClient = openAIClient(fresh.key);
    const ids = Array.from({ length: 18 }, (_, i) => `k${i}`);
    const created = await createBatch(freshClient, ...ids.map((id) => chatLine(id, "here")));
    await driveUntil(freshClient, created.id, new Set(["in_progress"]));
    for (let i = 0; i < 300 && (await chatsOf(fresh.scenario)).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await freshClient.batches.cancel(created.id)).status).toBe("cancelling");
    const done = await driveToEnd(freshClient, created.id);
    expect(done.status).toBe("cancelled");
    const ran = (await chatsOf(fresh.scenario)).length;
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThan(ids.length);
    expect(done.request_counts).toEqual({ total: 18, completed: ran, failed: 18 - ran });
    const answered = await fileLines(freshClient, done.output_file_id);
    const cancelled = await fileLines(freshClient, done.error_file_id);
    expect(answered).toHaveLength(ran);
    expect(cancelled.map((l) => l.error?.code)).toEqual(Array(18 - ran).fill("batch_cancelled"));
    expect([...answered, ...cancelled].map((l) => l.custom_id).sort()).toEqual([...ids].sort());
  });

  it("spreads a load-balanced route's lines over its targets, and answers a line its route has cached from the cache", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    const freshClient = openAIClient(fresh.key);
    const spreadIds = Array.from({ length: 16 }, (_, i) => `s${i}`);
    const spread = await driveToEnd(freshClient, (await createBatch(freshClient, ...spreadIds.map((id) => chatLine(id, "spread")))).id);
    expect(spread).toMatchObject({ status: "completed", request_counts: { total: 16, completed: 16, failed: 0 } });
    const spreadTo = async (scenario: string) => (await chatsOf(scenario)).filter((r) => promptOf(r).includes("hello s")).length;
    const [onOpenAI, onOther] = [await spreadTo(fresh.scenario), await spreadTo(`${fresh.scenario}-other`)];
    expect(onOpenAI + onOther).toBe(16);
    expect(onOpenAI).toBeGreaterThan(0);
    expect(onOther).toBeGreaterThan(0);

    // A later batch asking the cached route the same question is answered by the cache: no upstream call.
    expect(await driveToEnd(freshClient, (await createBatch(freshClient, chatLine("c1", "cached", "the cached question"))).id)).toMatchObject({ status: "completed", request_counts: { completed: 1 } });
    const second = await driveToEnd(freshClient, (await createBatch(freshClient, chatLine("c2", "cached", "the cached question"))).id);
    expect(second).toMatchObject({ status: "completed", request_counts: { total: 1, completed: 1, failed: 0 } });
    const [answer] = await fileLines(freshClient, second.output_file_id);
    expect(answer!.response.body.choices[0]!.message.content).toContain("the cached question");
    expect((await chatsOf(fresh.scenario)).filter((r) => promptOf(r).includes("the cached question"))).toHaveLength(1);
    const rows = await workspaceRows(fresh.id, 18);
    expect(rows.find((r) => r.request_id === `${second.id}:0`)).toMatchObject({ cache_status: "HIT", cost_usd: 0 });
  });

  it("expires when its completion window passes: lines that ran keep their answers, the rest are reported batch_expired", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    await scriptFaults(fresh.scenario, [], { delayMs: 1_500 });
    const freshClient = openAIClient(fresh.key);
    const ids = Array.from({ length: 18 }, (_, i) => `x${i}`);
    const created = await createBatch(freshClient, ...ids.map((id) => chatLine(id, "here")));
    await driveUntil(freshClient, created.id, new Set(["in_progress"]));
    for (let i = 0; i < 300 && (await chatsOf(fresh.scenario)).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    // The 24 h window ends now.
    await env.USAGE_DB.prepare("UPDATE batches SET expires_at = ? WHERE id = ?").bind(Math.floor(Date.now() / 1000) - 1, created.id).run();
    const done = await driveToEnd(freshClient, created.id);
    expect(done.status).toBe("expired");
    const ran = (await chatsOf(fresh.scenario)).length;
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThan(ids.length);
    expect(done.request_counts).toEqual({ total: 18, completed: ran, failed: 18 - ran });
    expect((await fileLines(freshClient, done.error_file_id)).map((l) => [l.response, l.error?.code])).toEqual(Array(18 - ran).fill([null, "batch_expired"]));
  });

  it("runs a batch created by a workspace's admin token as that token; once revoked, the token no longer resolves for its batch's lines", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    const created = (await (await admin("/tokens", { method: "POST", body: JSON.stringify({ name: "batch runner", role: "workspace_admin", workspaces: [fresh.id] }) })).json()) as { id: string; token: string };
    const asAdmin = new OpenAI({ apiKey: created.token, baseURL: `${GATEWAY_ORIGIN}/v1`, fetch: workerFetch, maxRetries: 0, defaultHeaders: { "x-switchyard-workspace": fresh.id } });
    const done = await driveToEnd(asAdmin, (await createBatch(asAdmin, chatLine("t1", "here"))).id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 1, completed: 1, failed: 0 } });

    expect(await batchKeyOf(env, fresh.id, created.id)).toMatchObject({ id: created.id, workspaceId: fresh.id });
    // Revoked: the lines its batches still have are refused (src/batches/line-consumer.ts answers them 401).
    expect((await admin(`/tokens/${created.id}`, { method: "DELETE" })).status).toBe(200);
    expect(await batchKeyOf(env, fresh.id, created.id)).toBeNull();
  });
});

describe("Anthropic's messages.batches in gateway mode", () => {
  it("runs a Message Batch on Bedrock through the Anthropic SDK: results in Anthropic's shapes, a failing request errored", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    await scriptFaults(fresh.scenario, [{ status: 400, message: "bad request for this one" }]);
    const anthropic = anthropicClient(fresh.key);
    const params = (text: string) => ({ model: "claude", max_tokens: 64, messages: [{ role: "user" as const, content: text }] });
    const created = await anthropic.messages.batches.create({ requests: [{ custom_id: "one", params: params("Hi one") }, { custom_id: "two", params: params("Hi two") }] });
    expect(created).toMatchObject({ type: "message_batch", processing_status: "in_progress" });
    await driveToEnd(openAIClient(fresh.key), created.id);
    expect(await anthropic.messages.batches.retrieve(created.id)).toMatchObject({ processing_status: "ended", request_counts: { processing: 0, succeeded: 1, errored: 1 } });
    const results: MessageBatchIndividualResponse[] = [];
    for await (const entry of await anthropic.messages.batches.results(created.id)) results.push(entry);
    const succeeded = results.find((r) => r.result.type === "succeeded");
    if (succeeded?.result.type !== "succeeded") throw new Error(`no succeeded result: ${JSON.stringify(results)}`);
    expect(succeeded.result.message).toMatchObject({ type: "message", role: "assistant", model: CLAUDE_ON_BEDROCK });
    expect(succeeded.result.message.content[0]).toMatchObject({ type: "text", text: expect.stringContaining(`Hi ${succeeded.custom_id}`) });
    expect(results.find((r) => r.result.type === "errored")?.result).toMatchObject({ type: "errored", error: { type: "error", error: { type: "invalid_request_error" } } });
  });
});

describe("background priority: batch lines take only the key's spare rate", () => {
  it("leaves interactive requests on the same limited key their room, defers its lines rather than failing them, and never takes the key past its limit", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    const limited = (await (await admin(`/workspaces/${fresh.id}/keys`, { method: "POST", body: JSON.stringify({ name: "limited", rateLimit: { rpm: 10 } }) })).json()) as { key: string };
    const interactive = () => callGateway(limited.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "interactive" }] });
    // Interactive traffic first: 4 of the key's 10 requests per minute.
    for (let i = 0; i < 4; i++) expect((await interactive()).status).toBe(200);

    const limitedClient = openAIClient(limited.key);
    const created = await createBatch(limitedClient, ...Array.from({ length: 10 }, (_, i) => chatLine(`p${i}`, "here")));
    // The reserve is what interactive requests used in the window (4): lines may fill the window to 10 - 4 = 6.
    const rows = await lineRowsWhen(created.id, (lines) => lines.length === 10 && lines.filter((l) => l.state === "done").length === 2 && lines.every((l) => l.state !== "running") && lines.filter((l) => l.state === "queued" && (l.sent_at ?? 0) > Date.now()).length === 8);
    expect(rows.filter((l) => l.state === "done")).toHaveLength(2);

    // The 4 requests per minute kept for interactive traffic are there; the fifth would take the key past 10.
    for (let i = 0; i < 4; i++) expect((await interactive()).status).toBe(200);
    expect((await interactive()).status).toBe(429);
    expect(await limitedClient.batches.retrieve(created.id)).toMatchObject({ status: "in_progress", request_counts: { failed: 0 } });
    expect((await chatsOf(fresh.scenario)).filter((r) => promptOf(r).includes("hello p"))).toHaveLength(2);

    await limitedClient.batches.cancel(created.id);
    const done = await driveToEnd(limitedClient, created.id);
    expect(done).toMatchObject({ status: "cancelled", request_counts: { total: 10, completed: 2, failed: 8 } });
    expect((await fileLines(limitedClient, done.error_file_id)).map((l) => l.error?.code)).toEqual(Array(8).fill("batch_cancelled"));
  });
});

describe("a worker that dies mid-batch loses no line and repeats none", () => {
  /** A line's message as its driver sent it, delivered straight to the consumer (as the Queue redelivers it). */
  async function deliver(batch: OpenAI.Batches.Batch, key: TestWorkspace, messages: { row: LineRow; id: string; attempts: number }[]) {
    const body = (row: LineRow): BatchLineMessage => ({
      v: 1,
      workspaceId: key.id,
      batchId: batch.id,
      keyId: key.keyId,
      endpoint: "/v1/chat/completions",
      inputFileId: batch.input_file_id,
      expiresAt: batch.expires_at ?? null,
      index: row.idx,
      offset: row.offset,
      length: row.length,
    });
    const delivery = createMessageBatch(BATCH_LINES_QUEUE, messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts, body: body(m.row) })));
    const ctx = createExecutionContext();
    await worker.queue(delivery, env, ctx);
    return getQueueResult(delivery, ctx);
  }

  it("the Queue's redelivery takes over the line its dead delivery held, answered lines are not run again, duplicates of a running line wait", async () => {
    const fresh = await newWorkspace(gatewayConfig);
    // The first upstream call hangs: its delivery is the one that "dies" holding that line.
    await scriptFaults(fresh.scenario, [{ delayMs: 4_000 }]);
    const freshClient = openAIClient(fresh.key);
    const ids = ["d0", "d1", "d2", "d3", "d4", "d5"];
    const created = await createBatch(freshClient, ...ids.map((id) => chatLine(id, "here")));
    const batch = await driveUntil(freshClient, created.id, new Set(["in_progress"]));
    const rows = await lineRowsWhen(created.id, (lines) => lines.length === 6 && lines.filter((l) => l.state === "done").length === 5 && lines.some((l) => l.state === "running"));
    const stuck = rows.find((l) => l.state === "running")!;
    const stuckId = ids[stuck.idx]!;

    // A duplicate message of the running line (another message id) waits for the claim instead of running it.
    const duplicate = await deliver(batch, fresh, [{ row: stuck, id: "duplicate-of-stuck", attempts: 1 }]);
    expect(duplicate.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["duplicate-of-stuck"]);

    // The worker died: the Queue redelivers every message of its delivery with the next attempt number.
    const redelivered = await deliver(batch, fresh, rows.map((row) => ({ row, id: row.claim_message!, attempts: row.claim_attempt! + 1 })));
    expect(redelivered.explicitAcks.sort()).toEqual(rows.map((row) => row.claim_message!).sort());

    const done = await driveToEnd(freshClient, created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 6, completed: 6, failed: 0 } });
    const output = await fileLines(freshClient, done.output_file_id);
    expect(output.map((l) => l.custom_id)).toEqual(ids);
    // Upstream: every line once, but the one in flight when its worker died, which the redelivery ran again.
    const chats = await chatsOf(fresh.scenario);
    expect(Object.fromEntries(ids.map((id) => [id, chats.filter((r) => promptOf(r).includes(`hello ${id}"`)).length]))).toEqual(Object.fromEntries(ids.map((id) => [id, id === stuckId ? 2 : 1])));
    const usage = await workspaceRows(fresh.id, 6);
    expect(usage.map((r) => r.request_id).sort()).toEqual(ids.map((_, i) => `${created.id}:${i}`));
  });

  it("keeps each line's claim and result in the line book: one result per line, dead claims expire, lost messages are sent again", async () => {
    const now = Date.UTC(2026, 11, 1);
    const book = (fn: (lines: LineBook) => unknown) => runInDurableObject(env.BATCH_DRIVER.getByName(`line-book-${Math.random()}`), (_i, state) => fn(new LineBook(state.storage.sql)));
    const outcome = await book((lines) => {
      lines.begin();
      lines.addDispatched([{ index: 0, offset: 0, length: 10 }, { index: 1, offset: 11, length: 10 }], { offset: 22, index: 2, exhausted: true });
      const unsent = lines.toResend(now, 10).map((l) => l.index);
      lines.markSent([0, 1], now);
      const first = lines.claim([{ index: 0, messageId: "m0", attempt: 1 }], now);
      const other = lines.claim([{ index: 0, messageId: "m0-copy", attempt: 1 }], now + 1_000);
      const redelivery = lines.claim([{ index: 0, messageId: "m0", attempt: 2 }], now + 2_000);
      const lost = lines.toResend(now + RESEND_AFTER_MS + 1, 10).map((l) => l.index);
      const expired = lines.toResend(now + 2_000 + CLAIM_TTL_MS, 10).map((l) => l.index);
      const recorded = [lines.record({ index: 0, status: 200, body: "{}", usage: null }), lines.record({ index: 0, status: 500, body: "{}", usage: null })];
      const again = lines.claim([{ index: 0, messageId: "m0", attempt: 3 }], now + 3_000);
      lines.stop("batch_cancelled");
      const stopped = lines.claim([{ index: 1, messageId: "m1", attempt: 1 }], now + 4_000);
      return { unsent, first, other, redelivery, lost, expired, recorded, again, stopped, counts: lines.counts(), results: lines.results(0, 10) };
    });
    expect(outcome).toEqual({
      unsent: [0, 1],
      first: [{ index: 0, verdict: "run" }],
      other: [{ index: 0, verdict: "busy", retryAfterMs: CLAIM_TTL_MS - 1_000 }],
      redelivery: [{ index: 0, verdict: "run" }],
      lost: [1],
      expired: [0, 1],
      recorded: [true, false],
      again: [{ index: 0, verdict: "done" }],
      stopped: [{ index: 1, verdict: "stop" }],
      counts: { dispatched: 2, done: 1, answered: 1 },
      results: [{ index: 0, status: 200, body: "{}", usage: null }],
    });
  });
});
