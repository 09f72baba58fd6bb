import { describe, expect, it } from "vitest";
import { callGateway, newWorkspace, simulatorProviders } from "../helpers";
import { uniqueId, usageRowFor } from "./usage-helpers";

// Prices from src/usage/pricing.ts, written out by hand: USD per million tokens.
const GPT_4O_MINI = { input: 0.15, output: 0.6 };
const CLAUDE_SONNET_4_5 = { input: 3, output: 15 };
const byHand = (price: { input: number; output: number }, prompt: number, completion: number) => (prompt * price.input + completion * price.output) / 1_000_000;

const WEATHER_TOOL = { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };

type OpenAIUsage = { prompt_tokens: number; completion_tokens: number };

async function openAIChat(key: string, body: Record<string, unknown>) {
  const id = uniqueId("req");
  const res = await callGateway(key, "/v1/chat/completions", body, { "x-request-id": id });
  expect(res.status).toBe(200);
  return { id, res };
}

/** The usage the client saw in the last SSE usage chunk (OpenAI dialect, include_usage asked). */
async function streamedOpenAIUsage(res: Response): Promise<OpenAIUsage> {
  const frames = (await res.text()).split("\n\n").filter((f) => f.startsWith("data: {"));
  return JSON.parse(frames.at(-1)!.slice(6)).usage as OpenAIUsage;
}

describe("cost = tokens × the pricing table", () => {
  it("prices a plain OpenAI request", async () => {
    const ws = await newWorkspace();
    const { id, res } = await openAIChat(ws.key, { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "What does a gateway do?" }] });
    const usage = ((await res.json()) as { usage: OpenAIUsage }).usage;
    const row = await usageRowFor(id);
    expect(row.prompt_tokens).toBe(usage.prompt_tokens);
    expect(row.completion_tokens).toBe(usage.completion_tokens);
    expect(row.cost_usd).toBeCloseTo(byHand(GPT_4O_MINI, usage.prompt_tokens, usage.completion_tokens), 15);
    expect(row).toMatchObject({ provider: "openai", model: "gpt-4o-mini", stream: 0, outcome: "success", usage_estimated: 0, workspace_id: ws.id, key_id: ws.keyId });
  });

  it("prices a streamed OpenAI request from the provider's final usage", async () => {
    const ws = await newWorkspace();
    const { id, res } = await openAIChat(ws.key, { model: "smart", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Stream me a reply please" }] });
    const usage = await streamedOpenAIUsage(res);
    const row = await usageRowFor(id);
    expect(row).toMatchObject({ route: "smart", stream: 1, prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, usage_estimated: 0 });
    expect(row.cost_usd).toBeCloseTo(byHand(GPT_4O_MINI, usage.prompt_tokens, usage.completion_tokens), 15);
    expect(row.ttfb_ms).not.toBeNull();
  });

  it("prices OpenAI tool calls, plain and streamed", async () => {
    const ws = await newWorkspace();
    const body = { model: "openai/gpt-4o-mini", tools: [WEATHER_TOOL], tool_choice: "required", messages: [{ role: "user", content: "Weather in Paris?" }] };
    const plain = await openAIChat(ws.key, body);
    const plainUsage = ((await plain.res.json()) as { usage: OpenAIUsage; choices: { finish_reason: string }[] }).usage;
    const streamed = await openAIChat(ws.key, { ...body, stream: true, stream_options: { include_usage: true } });
    const streamedUsage = await streamedOpenAIUsage(streamed.res);
    for (const [id, usage] of [[plain.id, plainUsage], [streamed.id, streamedUsage]] as const) {
      const row = await usageRowFor(id);
      expect(row.completion_tokens).toBe(usage.completion_tokens);
      expect(row.cost_usd).toBeCloseTo(byHand(GPT_4O_MINI, usage.prompt_tokens, usage.completion_tokens), 15);
    }
  });

  it("prices Anthropic requests: plain, streamed and tool use, through the Anthropic dialect", async () => {
    const ws = await newWorkspace();
    const base = { model: "anthropic/claude-sonnet-4-5", max_tokens: 200, messages: [{ role: "user", content: "Tell me about usage accounting" }] };
    const tools = [{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }];
    const cases = [base, { ...base, tools, tool_choice: { type: "any" } }];
    for (const body of cases) {
      const id = uniqueId("req");
      const res = await callGateway(ws.key, "/v1/messages", body, { "x-request-id": id });
      const usage = ((await res.json()) as { usage: { input_tokens: number; output_tokens: number } }).usage;
      const row = await usageRowFor(id);
      expect(row).toMatchObject({ provider: "anthropic", model: "claude-sonnet-4-5", prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens });
      expect(row.cost_usd).toBeCloseTo(byHand(CLAUDE_SONNET_4_5, usage.input_tokens, usage.output_tokens), 15);
    }
    const id = uniqueId("req");
    const res = await callGateway(ws.key, "/v1/messages", { ...base, stream: true }, { "x-request-id": id });
    const events = (await res.text()).split("\n\n").filter((f) => f.includes("data: "));
    const start = JSON.parse(events.find((e) => e.startsWith("event: message_start"))!.split("data: ")[1]!);
    const delta = JSON.parse(events.find((e) => e.startsWith("event: message_delta"))!.split("data: ")[1]!);
    const row = await usageRowFor(id);
    expect(row).toMatchObject({ stream: 1, prompt_tokens: start.message.usage.input_tokens, completion_tokens: delta.usage.output_tokens, usage_estimated: 0 });
    expect(row.cost_usd).toBeCloseTo(byHand(CLAUDE_SONNET_4_5, start.message.usage.input_tokens, delta.usage.output_tokens), 15);
  });

  it("prices embeddings by their input tokens", async () => {
    const ws = await newWorkspace();
    const id = uniqueId("req");
    const res = await callGateway(ws.key, "/v1/embeddings", { model: "openai/text-embedding-3-small", input: ["first text to embed", "second"] }, { "x-request-id": id });
    const { usage } = (await res.json()) as { usage: { prompt_tokens: number } };
    const row = await usageRowFor(id);
    expect(row).toMatchObject({ prompt_tokens: usage.prompt_tokens, completion_tokens: 0 });
    // text-embedding-3-small: $0.02 per million input tokens.
    expect(row.cost_usd).toBeCloseTo((usage.prompt_tokens * 0.02) / 1e6, 15);
  });

  it("records cost null (unpriced), never 0, for a model without a price", async () => {
    const ws = await newWorkspace();
    const { id } = await openAIChat(ws.key, { model: "openai/sim-unlisted-model", messages: [{ role: "user", content: "Hi" }] });
    const row = await usageRowFor(id);
    expect(row.prompt_tokens).toBeGreaterThan(0);
    expect(row.cost_usd).toBeNull();
  });

  it("uses the workspace's pricing override over the table", async () => {
    const price = { input: 7, output: 11 };
    const ws = await newWorkspace((scenario) => ({ providers: simulatorProviders(scenario), pricing: { "openai/sim-house-model": price } }));
    const { id, res } = await openAIChat(ws.key, { model: "openai/sim-house-model", messages: [{ role: "user", content: "Hi there" }] });
    const usage = ((await res.json()) as { usage: OpenAIUsage }).usage;
    const row = await usageRowFor(id);
    expect(row.cost_usd).toBeCloseTo(byHand(price, usage.prompt_tokens, usage.completion_tokens), 15);
  });
});
