import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests, type TestWorkspace } from "../helpers";

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
      anthropic: { type: "anthropic", baseURL: `${origin}/s/${scenario}/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } },
      aws: { type: "bedrock", region: "us-east-1", accessKeyId: { env: "AWS_ACCESS_KEY_ID" }, secretAccessKey: { env: "AWS_SECRET_ACCESS_KEY" }, baseURL: `${origin}/s/${scenario}/bedrock` },
      compat: { type: "openai-compatible", baseURL: `${origin}/s/${scenario}/compat/v1`, apiKey: { env: "COMPAT_API_KEY" } },
    },
    routes: {
      here: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, batch: { mode: "gateway" } },
      rescued: { strategy: "fallback", targets: [{ provider: "down", model: "gpt-4o-mini" }, { provider: "anthropic", model: "claude-sonnet-4-5" }], retry: { attempts: 1 }, batch: { mode: "gateway" } },
      claude: { strategy: "single", target: { provider: "aws", model: CLAUDE_ON_BEDROCK }, batch: { mode: "gateway" } },
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

async function fileLines(client: OpenAI, fileId: string | null | undefined): Promise<Record<string, any>[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
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

describe("gateway-run batches through the OpenAI SDK", () => {
  it("runs every line through the route and writes OpenAI's result files, one line per custom_id", async () => {
    const created = await createBatch(client, chatLine("a", "here"), chatLine("b", "here"), chatLine("c", "here"));
    expect(created).toMatchObject({ status: "validating", request_counts: { total: 3, completed: 0, failed: 0 } });
    const done = await driveToEnd(client, created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 3, failed: 0 } });
    const output = await fileLines(client, done.output_file_id);
    expect(output.map((l) => l.custom_id)).toEqual(["a", "b", "c"]);
    for (const line of output) {
      expect(line).toMatchObject({ response: { status_code: 200, request_id: expect.stringMatching(new RegExp(`^${created.id}:\\d$`)), body: { object: "chat.completion", model: "gpt-4o-mini" } }, error: null });
      expect(line.response.body.choices[0].message.content).toContain(`hello ${line.custom_id}`);
    }
    const chats = (await upstreamRequests(ws.scenario)).filter((r) => r.path === "/v1/chat/completions");
    expect(chats).toHaveLength(3);
  });
});
