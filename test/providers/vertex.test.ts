import { APIError } from "openai";
import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { anthropicClient, callGateway, newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests, type UpstreamRequest } from "../helpers";
import { TEST_SERVICE_ACCOUNT_EMAIL } from "../simulators/google-test-keys";
import { embeddingOf } from "../simulators/openai";

/** Each workspace gets its own token endpoint URL (under its scenario), so its access token is its own. */
const vertexConfig =
  (serviceAccountEnv = "VERTEX_SERVICE_ACCOUNT") =>
  (scenario: string): GatewayConfigInput => ({
    providers: {
      vertex: {
        type: "vertex",
        project: "switchyard-sim",
        location: "us-east5",
        serviceAccount: { env: serviceAccountEnv },
        tokenURL: `${simulatorOrigin()}/s/${scenario}/vertex/token`,
        baseURL: `${simulatorOrigin()}/s/${scenario}/vertex`,
      },
    },
  });

const MODELS = "/v1/projects/switchyard-sim/locations/us-east5/publishers";
const weatherTool = { type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };
const conversation = [
  { role: "system" as const, content: "Be brief." },
  { role: "user" as const, content: "Hi there" },
];
const modelCalls = (requests: UpstreamRequest[]) => requests.filter((r) => r.path !== "/token");
const exchanges = (requests: UpstreamRequest[]) => requests.filter((r) => r.path === "/token");

/** Reads a streamed chat completion from the openai SDK into its text, tool call, finish reason and usage. */
async function collect(stream: AsyncIterable<import("openai").OpenAI.ChatCompletionChunk>) {
  let text = "";
  let toolName = "";
  let toolArguments = "";
  let finish: string | null = null;
  let usage: unknown;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
      toolName += call.function?.name ?? "";
      toolArguments += call.function?.arguments ?? "";
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, toolName, toolArguments, finish, usage };
}

describe("Vertex AI provider: Gemini models", () => {
  it("answers through the openai SDK, plain and streamed with include_usage, with exact usage", async () => {
    const ws = await newWorkspace(vertexConfig());
    const client = openAIClient(ws.key);
    const completion = await client.chat.completions.create({ model: "vertex/gemini-2.5-pro", messages: conversation });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi there");
    const expectedUsage = { prompt_tokens: 5, completion_tokens: 19, total_tokens: 24, prompt_tokens_details: { cached_tokens: 3 }, completion_tokens_details: { reasoning_tokens: 8 } };
    expect(completion.usage).toMatchObject(expectedUsage);

    const streamed = await collect(await client.chat.completions.create({ model: "vertex/gemini-2.5-pro", messages: conversation, stream: true, stream_options: { include_usage: true } }));
    expect(streamed.text).toBe("Hello from the simulator. You said: Hi there");
    expect(streamed.finish).toBe("stop");
    expect(streamed.usage).toMatchObject(expectedUsage);

    const [plain, stream] = modelCalls(await upstreamRequests(ws.scenario));
    expect(plain?.path).toBe(`${MODELS}/google/models/gemini-2.5-pro:generateContent`);
    expect(stream?.path).toBe(`${MODELS}/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse`);
    expect(plain?.headers.authorization).toMatch(/^Bearer ya29\.sim-/);
    expect(plain?.body.systemInstruction).toEqual({ parts: [{ text: "Be brief." }] });
  });

  it("calls tools, plain and streamed", async () => {
    const ws = await newWorkspace(vertexConfig());
    const client = openAIClient(ws.key);
    const completion = await client.chat.completions.create({ model: "vertex/gemini-2.0-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], tool_choice: "required" });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && [call.function.name, JSON.parse(call.function.arguments)]).toEqual(["get_weather", { city: "Paris" }]);

    const streamed = await collect(await client.chat.completions.create({ model: "vertex/gemini-2.0-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], stream: true }));
    expect(streamed.toolName).toBe("get_weather");
    expect(JSON.parse(streamed.toolArguments)).toEqual({ city: "Paris" });
    expect(streamed.finish).toBe("tool_calls");
    expect(modelCalls(await upstreamRequests(ws.scenario))[0]?.body.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
  });

  it("answers /v1/messages through the Anthropic SDK, plain and streamed", async () => {
    const ws = await newWorkspace(vertexConfig());
    const client = anthropicClient(ws.key);
    const message = await client.messages.create({ model: "vertex/gemini-2.5-flash", max_tokens: 100, messages: [{ role: "user", content: "Hi there" }] });
    expect(message.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hi there" });
    const streamed = await client.messages.stream({ model: "vertex/gemini-2.5-flash", max_tokens: 100, messages: [{ role: "user", content: "Hi there" }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hi there" });
    expect(streamed.usage.output_tokens).toBe(19);
  });

  it("maps a safety block to finish_reason content_filter", async () => {
    const ws = await newWorkspace(vertexConfig());
    const completion = await openAIClient(ws.key).chat.completions.create({ model: "vertex/gemini-2.5-flash", messages: [{ role: "user", content: "[block] please" }] });
    expect(completion.choices[0]?.finish_reason).toBe("content_filter");
  });

  it("embeds through :predict with the simulator's vectors", async () => {
    const ws = await newWorkspace(vertexConfig());
    const result = await openAIClient(ws.key).embeddings.create({ model: "vertex/text-embedding-004", input: ["alpha", "beta"] });
    expect(result.data.map((d) => d.embedding)).toEqual([embeddingOf("alpha"), embeddingOf("beta")]);
    expect(result.usage.prompt_tokens).toBe(3); // statistics.token_count: 2 + 1
    expect(modelCalls(await upstreamRequests(ws.scenario))[0]?.path).toBe(`${MODELS}/google/models/text-embedding-004:predict`);
  });
});

describe("Vertex AI provider: Claude models", () => {
  it("answers through the openai SDK via rawPredict, plain and streamed with include_usage", async () => {
    const ws = await newWorkspace(vertexConfig());
    const client = openAIClient(ws.key);
    const completion = await client.chat.completions.create({ model: "vertex/claude-sonnet-4-5@20250929", messages: conversation, max_tokens: 300 });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi there");
    expect(completion.model).toBe("claude-sonnet-4-5@20250929");
    expect(completion.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 11, total_tokens: 16 });

    const streamed = await collect(await client.chat.completions.create({ model: "vertex/claude-sonnet-4-5@20250929", messages: conversation, stream: true, stream_options: { include_usage: true } }));
    expect(streamed.text).toBe("Hello from the simulator. You said: Hi there");
    expect(streamed.finish).toBe("stop");
    expect(streamed.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 11, total_tokens: 16 });

    const [plain, stream] = modelCalls(await upstreamRequests(ws.scenario));
    expect(plain?.path).toBe(`${MODELS}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`);
    expect(stream?.path).toBe(`${MODELS}/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict`);
    expect(plain?.body).toMatchObject({ anthropic_version: "vertex-2023-10-16", max_tokens: 300, system: "Be brief." });
    expect(plain?.body).not.toHaveProperty("model");
    expect(stream?.body).toMatchObject({ anthropic_version: "vertex-2023-10-16", stream: true });
  });

  it("calls tools, plain and streamed", async () => {
    const ws = await newWorkspace(vertexConfig());
    const client = openAIClient(ws.key);
    const completion = await client.chat.completions.create({ model: "vertex/claude-haiku-4-5@20251001", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && [call.function.name, JSON.parse(call.function.arguments)]).toEqual(["get_weather", { city: "Paris" }]);

    const streamed = await collect(await client.chat.completions.create({ model: "vertex/claude-haiku-4-5@20251001", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], stream: true }));
    expect(streamed.toolName).toBe("get_weather");
    expect(JSON.parse(streamed.toolArguments)).toEqual({ city: "Paris" });
    expect(streamed.finish).toBe("tool_calls");
  });

  it("answers /v1/messages through the Anthropic SDK, plain and streamed", async () => {
    const ws = await newWorkspace(vertexConfig());
    const client = anthropicClient(ws.key);
    const message = await client.messages.create({ model: "vertex/claude-sonnet-4-5@20250929", max_tokens: 100, messages: [{ role: "user", content: "Hi there" }] });
    expect(message.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hi there" });
    expect(message.usage).toMatchObject({ input_tokens: 2, output_tokens: 11 });
    const streamed = await client.messages.stream({ model: "vertex/claude-sonnet-4-5@20250929", max_tokens: 100, messages: [{ role: "user", content: "Hi there" }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hi there" });
    expect(streamed.stop_reason).toBe("end_turn");
  });
});

describe("Vertex AI provider: service account auth", () => {
  it("exchanges one verified JWT for a token that serves many requests, concurrent ones included", async () => {
    const ws = await newWorkspace(vertexConfig());
    const client = openAIClient(ws.key);
    const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] });
    const concurrent = await Promise.all([ask("vertex/gemini-2.0-flash"), ask("vertex/gemini-2.5-flash"), ask("vertex/claude-sonnet-4-5@20250929"), ask("vertex/gemini-2.0-flash"), ask("vertex/gemini-2.0-flash")]);
    expect(concurrent.every((c) => c.choices[0]?.message.content === "Hello from the simulator. You said: Hi")).toBe(true);
    await ask("vertex/gemini-2.0-flash");
    await ask("vertex/claude-sonnet-4-5@20250929");

    const requests = await upstreamRequests(ws.scenario);
    expect(modelCalls(requests)).toHaveLength(7);
    const [exchange, ...more] = exchanges(requests);
    expect(more).toHaveLength(0);
    // The simulator verified this assertion (signature, iss, aud, scope, exp) before issuing the token.
    const form = new URLSearchParams(String(exchange?.body));
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const [header, claims] = form.get("assertion")!.split(".").slice(0, 2).map((part) => JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))));
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(claims).toMatchObject({ iss: TEST_SERVICE_ACCOUNT_EMAIL, aud: `${simulatorOrigin()}/s/${ws.scenario}/vertex/token`, scope: "https://www.googleapis.com/auth/cloud-platform" });
    expect(claims.exp - claims.iat).toBe(3600);
    const tokens = new Set(modelCalls(requests).map((r) => r.headers.authorization));
    expect(tokens.size).toBe(1);
  });

  it("fails clearly, naming the provider and no secret, when the token endpoint refuses the JWT", async () => {
    const ws = await newWorkspace(vertexConfig("VERTEX_ROGUE_SERVICE_ACCOUNT"));
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "vertex/gemini-2.0-flash", messages: [{ role: "user", content: "Hi" }] });
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(text).error).toMatchObject({ code: "upstream_auth_failed", message: "vertex: the service account token exchange failed (HTTP 400, invalid_grant: Invalid JWT Signature.)." });
    expect(text).not.toContain("PRIVATE KEY");
    const requests = await upstreamRequests(ws.scenario);
    expect(exchanges(requests)).toHaveLength(1);
    expect(modelCalls(requests)).toHaveLength(0);
  });

  it("keeps an upstream error's status and message with the provider named", async () => {
    const ws = await newWorkspace(vertexConfig());
    const client = openAIClient(ws.key);
    await client.chat.completions.create({ model: "vertex/gemini-2.0-flash", messages: [{ role: "user", content: "Hi" }] });
    await scriptFaults(ws.scenario, [{ status: 429, message: "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model." }]);
    const error = await client.chat.completions.create({ model: "vertex/gemini-2.0-flash", messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(429);
    expect((error as APIError).message).toContain("vertex: Quota exceeded for aiplatform.googleapis.com/");
    expect((error as APIError).code).toBe("RESOURCE_EXHAUSTED");
  });
});
