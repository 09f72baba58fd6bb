import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { parseConfig } from "../../src/config/validate";
import { PRESETS, PRESET_NAMES } from "../../src/providers/openai-compatible/presets";
import { supportsOf } from "../../src/providers/registry";
import { TEST_PROVIDER_KEYS } from "../fixtures";
import { admin, anthropicClient, callGateway, newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests } from "../helpers";
import { embeddingOf } from "../simulators/openai";
import providersDoc from "../../docs/providers.md?raw";

type ProviderInput = GatewayConfigInput["providers"][string];

/** One compatible provider named `compat`, at a simulator flavor (open, strict or local) of the scenario. */
function compatConfig(flavor: "open" | "strict" | "local", provider: Partial<Extract<ProviderInput, { type: "openai-compatible" }>>) {
  return (scenario: string): GatewayConfigInput => ({
    providers: { compat: { type: "openai-compatible", baseURL: `${simulatorOrigin()}/s/${scenario}/compat/${flavor}/v1`, ...provider } },
    routes: { fast: { strategy: "single", target: { provider: "compat", model: "test-model" } } },
  });
}

const key = { env: "COMPAT_API_KEY" };
const mistral = compatConfig("strict", { preset: "mistral", apiKey: key });
const weatherTool = { type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };

describe("OpenAI-compatible family: a strict server (Mistral preset)", () => {
  it("applies the preset's quirks: max_tokens, random_seed, no user, no messages[].name", async () => {
    const ws = await newWorkspace(mistral);
    const completion = await openAIClient(ws.key).chat.completions.create({
      model: "fast",
      messages: [{ role: "user", content: "Hi Mistral", name: "ana" }],
      max_completion_tokens: 50,
      seed: 7,
      user: "user-1",
      metadata: { team: "a" },
    });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi Mistral");
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.headers.authorization).toBe(`Bearer ${TEST_PROVIDER_KEYS.COMPAT_API_KEY}`);
    expect(upstream?.body).toEqual({ model: "test-model", messages: [{ role: "user", content: "Hi Mistral" }], max_tokens: 50, random_seed: 7 });
  });

  it("streams with include_usage although stream_options is not sent: usage comes from the last chunk", async () => {
    const ws = await newWorkspace(mistral);
    const stream = await openAIClient(ws.key).chat.completions.create({ model: "fast", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Stream it" }] });
    let text = "";
    let usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello from the simulator. You said: Stream it");
    expect(usage).toEqual(expect.objectContaining({ prompt_tokens: 3, completion_tokens: 12, total_tokens: 15 }));
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.stream).toBe(true);
    expect(upstream?.body).not.toHaveProperty("stream_options");
  });

  it("calls a tool, plain and streamed", async () => {
    const ws = await newWorkspace(mistral);
    const client = openAIClient(ws.key);
    const plain = await client.chat.completions.create({ model: "fast", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], parallel_tool_calls: false });
    const call = plain.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
    const stream = await client.chat.completions.create({ model: "fast", stream: true, messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) args += delta.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    expect(finish).toBe("tool_calls");
    const [first] = await upstreamRequests(ws.scenario);
    expect(first?.body.parallel_tool_calls).toBe(false);
  });

  it("answers /v1/messages with the Anthropic SDK, plain and streamed", async () => {
    const ws = await newWorkspace(mistral);
    const client = anthropicClient(ws.key);
    const message = await client.messages.create({ model: "fast", max_tokens: 100, messages: [{ role: "user", content: "Hello there" }] });
    expect(message.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hello there" });
    const streamed = await client.messages.stream({ model: "fast", max_tokens: 100, messages: [{ role: "user", content: "Stream it" }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Stream it" });
    expect(streamed.usage.output_tokens).toBe(12);
  });

  it("embeds", async () => {
    const ws = await newWorkspace(mistral);
    const result = await openAIClient(ws.key).embeddings.create({ model: "compat/mistral-embed", input: "some text", encoding_format: "float" });
    expect(result.data[0]?.embedding).toEqual(embeddingOf("some text"));
  });
});

describe("OpenAI-compatible family: presets and custom servers", () => {
  it("sends stream_options and max_completion_tokens to a server that takes them (Groq preset), without messages[].name", async () => {
    const ws = await newWorkspace(compatConfig("open", { preset: "groq", apiKey: key }));
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "fast", stream: true, max_tokens: 40, messages: [{ role: "user", content: "Hi", name: "bo" }] });
    expect(res.status).toBe(200);
    await res.text();
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body).toEqual({ model: "test-model", messages: [{ role: "user", content: "Hi" }], max_completion_tokens: 40, stream: true, stream_options: { include_usage: true } });
  });

  it("calls a local server without credentials (Ollama preset, no apiKey)", async () => {
    const ws = await newWorkspace(compatConfig("local", { preset: "ollama" }));
    const completion = await openAIClient(ws.key).chat.completions.create({ model: "fast", messages: [{ role: "user", content: "Hi local" }] });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi local");
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.headers.authorization).toBeUndefined();
  });

  it("describes a server without a preset by its own quirks in the config", async () => {
    const ws = await newWorkspace(compatConfig("strict", { apiKey: key, quirks: { streamUsage: "final_chunk", dropFields: ["user"] }, headers: { "x-team": "search" } }));
    const completion = await openAIClient(ws.key).chat.completions.create({ model: "fast", messages: [{ role: "user", content: "Hi" }], max_tokens: 30, user: "u" });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi");
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body).toEqual({ model: "test-model", messages: [{ role: "user", content: "Hi" }], max_tokens: 30 });
    expect(upstream?.headers["x-team"]).toBe("search");
  });

  it("sends a request only where it can be served: a target without tools is passed over in a fallback, or refused naming it", async () => {
    const ws = await newWorkspace((scenario) => {
      const baseURL = `${simulatorOrigin()}/s/${scenario}/compat/open/v1`;
      return {
        providers: { pplx: { type: "openai-compatible", preset: "perplexity", baseURL, apiKey: key }, together: { type: "openai-compatible", preset: "together", baseURL, apiKey: key } },
        routes: {
          fast: { strategy: "single", target: { provider: "pplx", model: "sonar" } },
          research: { strategy: "fallback", targets: [{ provider: "pplx", model: "sonar" }, { provider: "together", model: "test-model" }] },
        },
      };
    });
    const withTools = (model: string) => callGateway(ws.key, "/v1/chat/completions", { model, tools: [weatherTool], messages: [{ role: "user", content: "Hi" }] });
    const refused = await withTools("fast");
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string; param: string; message: string } }).error).toMatchObject({
      code: "unsupported_operation",
      param: "tools",
      message: 'Route "fast": its target "pplx/sonar" does not support tools.',
    });
    expect(await upstreamRequests(ws.scenario)).toHaveLength(0);

    const fallback = await withTools("research");
    expect(fallback.status).toBe(200);
    expect(fallback.headers.get("x-switchyard-provider")).toBe("together");
    const sent = await upstreamRequests(ws.scenario);
    expect(sent.map((r) => r.body.model)).toEqual(["test-model"]);
    expect(sent[0]?.body).toHaveProperty("tools");

    const plain = await callGateway(ws.key, "/v1/chat/completions", { model: "research", messages: [{ role: "user", content: "Hi" }] });
    expect(plain.headers.get("x-switchyard-provider")).toBe("pplx");
  });

  it("refuses what a preset does not offer (embeddings, images) before anything is sent", async () => {
    const ws = await newWorkspace(compatConfig("open", { preset: "perplexity", apiKey: key }));
    const embeddings = await callGateway(ws.key, "/v1/embeddings", { model: "compat/any", input: "x" });
    expect(embeddings.status).toBe(400);
    expect(((await embeddings.json()) as { error: { code: string } }).error.code).toBe("unsupported_operation");

    const deepseek = await newWorkspace(compatConfig("open", { preset: "deepseek", apiKey: key }));
    const image = await callGateway(deepseek.key, "/v1/chat/completions", {
      model: "fast",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] }],
    });
    expect(image.status).toBe(400);
    expect(((await image.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "unsupported_content",
      message: 'Route "fast": its target "compat/test-model" does not support images.',
    });
    expect((await upstreamRequests(deepseek.scenario)).length).toBe(0);
  });

  it("a server's own `supports` overrides its preset's, field by field", async () => {
    const ws = await newWorkspace(compatConfig("open", { preset: "perplexity", apiKey: key, supports: { tools: true, stream: false } }));
    const tools = await callGateway(ws.key, "/v1/chat/completions", { model: "fast", tools: [weatherTool], messages: [{ role: "user", content: "Hi" }] });
    expect(tools.status).toBe(200);
    const stream = await callGateway(ws.key, "/v1/chat/completions", { model: "fast", stream: true, messages: [{ role: "user", content: "Hi" }] });
    expect(stream.status).toBe(400);
    expect(((await stream.json()) as { error: { param: string } }).error.param).toBe("stream");
  });

  it("keeps an upstream error's status and message", async () => {
    const ws = await newWorkspace(compatConfig("open", { preset: "together", apiKey: key }));
    await scriptFaults(ws.scenario, [{ status: 429, message: "Rate limit reached for model test-model" }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "fast", messages: [{ role: "user", content: "Hi" }] });
    expect(res.status).toBe(429);
    const text = await res.text();
    expect(JSON.parse(text).error.message).toBe("compat: Rate limit reached for model test-model");
    expect(text).not.toContain(TEST_PROVIDER_KEYS.COMPAT_API_KEY);
  });

  it("rejects configs that name neither a preset nor a base URL, or omit a preset's required key", async () => {
    const ws = await newWorkspace();
    const put = (providers: Record<string, unknown>) => admin(`/workspaces/${ws.id}/config`, { method: "PUT", body: JSON.stringify({ providers }) });
    expect((await put({ x: { type: "openai-compatible" } })).status).toBe(400);
    expect((await put({ x: { type: "openai-compatible", preset: "groq" } })).status).toBe(400);
    expect((await put({ x: { type: "openai-compatible", preset: "nope", apiKey: key } })).status).toBe(400);
    expect((await put({ x: { type: "openai-compatible", preset: "groq", apiKey: key } })).status).toBe(200);
  });

  it("has a well-formed row for every preset", () => {
    expect(PRESET_NAMES.length).toBeGreaterThanOrEqual(12);
    for (const name of PRESET_NAMES) {
      const preset = PRESETS[name];
      expect(preset.baseURL).toMatch(preset.requiresKey ? /^https:\/\// : /^http:\/\/localhost:/);
      expect(preset.requiresKey).toBe(preset.auth.kind !== "none");
      // docs/providers.md lists every preset, in the provider table and in the quirks table.
      expect(providersDoc).toContain(`preset \`${name}\``);
      expect(providersDoc).toContain(`| \`${name}\` | \`${preset.baseURL}\``);
    }
  });

  it("docs/providers.md's capability table says what planning enforces, for every provider type and preset", () => {
    const env = { env: "K" };
    const parsed = parseConfig({
      providers: {
        openai: { type: "openai", apiKey: env },
        anthropic: { type: "anthropic", apiKey: env },
        gemini: { type: "gemini", apiKey: env },
        vertex: { type: "vertex", project: "p", location: "us-east5", serviceAccount: env },
        bedrock: { type: "bedrock", region: "us-east-1", accessKeyId: env, secretAccessKey: env },
        azure: { type: "azure", baseURL: "https://r.openai.azure.com", apiKey: env },
        ...Object.fromEntries(PRESET_NAMES.map((name) => [name, { type: "openai-compatible", preset: name, apiKey: env }])),
      },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const table = providersDoc.slice(providersDoc.indexOf("## What each provider supports"), providersDoc.indexOf("## OpenAI and Anthropic"));
    for (const [name, provider] of Object.entries(parsed.config.providers)) {
      const label = provider.type === "openai-compatible" ? `preset \`${name}\`` : `\`${provider.type}\``;
      const row = table.split("\n").find((line) => line.split("|")[2]?.trim().endsWith(label));
      if (!row) throw new Error(`no row for ${label}`);
      const [chat, stream, tools, embeddings, vision] = row.split("|").slice(3, 8).map((cell) => cell.trim().startsWith("✓"));
      expect({ name, chat, stream, tools, embeddings, vision }).toEqual({ name, ...supportsOf(provider) });
    }
  });
});
