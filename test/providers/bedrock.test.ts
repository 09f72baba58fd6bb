import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { TEST_AWS_CREDENTIALS } from "../fixtures";
import { anthropicClient, callGateway, newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests } from "../helpers";
import { titanEmbeddingOf } from "../simulators/bedrock";

const CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0";

function bedrockConfig(secretEnv = "AWS_SECRET_ACCESS_KEY", sessionTokenEnv?: string) {
  return (scenario: string): GatewayConfigInput => ({
    providers: {
      aws: {
        type: "bedrock",
        region: "us-east-1",
        accessKeyId: { env: "AWS_ACCESS_KEY_ID" },
        secretAccessKey: { env: secretEnv },
        ...(sessionTokenEnv ? { sessionToken: { env: sessionTokenEnv } } : {}),
        baseURL: `${simulatorOrigin()}/s/${scenario}/bedrock`,
      },
    },
    routes: { claude: { strategy: "single", target: { provider: "aws", model: CLAUDE } } },
  });
}

const weatherTool = {
  type: "function" as const,
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

describe("Bedrock (Converse, SigV4)", () => {
  it("answers a plain chat with the OpenAI SDK, signed, with system, inferenceConfig and exact usage", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const completion = await openAIClient(ws.key).chat.completions.create({
      model: "claude",
      messages: [
        { role: "system", content: "Be brief and kind." },
        { role: "user", content: "Hi there" },
      ],
      max_tokens: 200,
      temperature: 0.3,
      top_p: 0.9,
      stop: ["END"],
    });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi there");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.model).toBe(CLAUDE);
    // The simulator counts "Hi there" as 2 input tokens and the system prompt (5 tokens) as a cache read.
    expect(completion.usage).toMatchObject({ prompt_tokens: 2 + 5, completion_tokens: 11, prompt_tokens_details: { cached_tokens: 5 } });

    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");
    expect(upstream?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIASIMULATOR0000001\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/);
    expect(upstream?.body).toEqual({
      messages: [{ role: "user", content: [{ text: "Hi there" }] }],
      system: [{ text: "Be brief and kind." }],
      inferenceConfig: { maxTokens: 200, temperature: 0.3, topP: 0.9, stopSequences: ["END"] },
    });
  });

  it("streams the binary event stream with include_usage, usage exact in the last chunk", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const stream = await openAIClient(ws.key).chat.completions.create({
      model: "claude",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: "Be brief and kind." },
        { role: "user", content: "Stream this reply" },
      ],
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello from the simulator. You said: Stream this reply");
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 5 + 5, completion_tokens: 14, prompt_tokens_details: { cached_tokens: 5 } });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream");
    expect(upstream?.headers.accept).toBe("application/vnd.amazon.eventstream");
  });

  it("calls a tool (toolConfig, toolChoice any) and sends the result back as toolUse/toolResult blocks", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const client = openAIClient(ws.key);
    const first = await client.chat.completions.create({ model: "claude", messages: [{ role: "user", content: "Weather in Paris?" }], tools: [weatherTool], tool_choice: "required" });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });

    const second = await client.chat.completions.create({
      model: "claude",
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [call!] },
        { role: "tool", tool_call_id: call!.id, content: "18C and sunny" },
      ],
    });
    expect(second.choices[0]?.message.content).toBe("The tool said: 18C and sunny");

    const [firstUp, secondUp] = await upstreamRequests(ws.scenario);
    expect(firstUp?.body.toolConfig).toEqual({
      tools: [{ toolSpec: { name: "get_weather", description: "Weather for a city", inputSchema: { json: weatherTool.function.parameters } } }],
      toolChoice: { any: {} },
    });
    expect(secondUp?.body.messages).toEqual([
      { role: "user", content: [{ text: "Weather in Paris?" }] },
      { role: "assistant", content: [{ toolUse: { toolUseId: call!.id, name: "get_weather", input: { city: "Paris" } } }] },
      { role: "user", content: [{ toolResult: { toolUseId: call!.id, content: [{ text: "18C and sunny" }], status: "success" } }] },
    ]);
  });

  it("streams a tool call", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const stream = await openAIClient(ws.key).chat.completions.create({
      model: "claude",
      stream: true,
      messages: [{ role: "user", content: "Weather?" }],
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    let name = "";
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += call.function?.name ?? "";
        args += call.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    expect(finish).toBe("tool_calls");
    const [upstream] = await upstreamRequests(ws.scenario);
    expect((upstream?.body.toolConfig as { toolChoice: unknown }).toolChoice).toEqual({ tool: { name: "get_weather" } });
  });

  it("answers /v1/messages with the Anthropic SDK, plain and streamed", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const client = anthropicClient(ws.key);
    const message = await client.messages.create({ model: "claude", max_tokens: 100, messages: [{ role: "user", content: "Hello Bedrock" }] });
    expect(message.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hello Bedrock" });
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.input_tokens).toBe(4);

    const streamed = await client.messages.stream({ model: "claude", max_tokens: 100, messages: [{ role: "user", content: "Stream it" }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Stream it" });
    expect(streamed.stop_reason).toBe("end_turn");
    expect(streamed.usage.output_tokens).toBe(12);
  });

  it("calls a tool through /v1/messages (tool_use block, stop_reason tool_use)", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const message = await anthropicClient(ws.key).messages.create({
      model: "claude",
      max_tokens: 100,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [{ name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
      tool_choice: { type: "any" },
    });
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect((upstream?.body.toolConfig as { toolChoice: unknown }).toolChoice).toEqual({ any: {} });
  });

  it("maps max_tokens to finish_reason length", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const completion = await openAIClient(ws.key).chat.completions.create({ model: "claude", max_tokens: 2, messages: [{ role: "user", content: "Say a lot" }] });
    expect(completion.choices[0]?.finish_reason).toBe("length");
  });

  it("passes inline images as bytes and refuses image URLs with a 400", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    const ok = await callGateway(ws.key, "/v1/chat/completions", {
      model: "claude",
      messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } }] }],
    });
    expect(ok.status).toBe(200);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.messages).toEqual([{ role: "user", content: [{ text: "What is this?" }, { image: { format: "png", source: { bytes: png } } }] }]);

    const refused = await callGateway(ws.key, "/v1/chat/completions", {
      model: "claude",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }] }],
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("unsupported_image_source");
  });

  it("embeds with Titan, one InvokeModel call per input, vectors equal to the simulator's", async () => {
    const ws = await newWorkspace(bedrockConfig());
    const result = await openAIClient(ws.key).embeddings.create({ model: "aws/amazon.titan-embed-text-v2:0", input: ["first text", "second"], dimensions: 256, encoding_format: "float" });
    expect(result.data.map((d) => d.embedding)).toEqual([titanEmbeddingOf("first text", 256), titanEmbeddingOf("second", 256)]);
    expect(result.usage.prompt_tokens).toBe(3 + 2);
    const requests = await upstreamRequests(ws.scenario);
    expect(requests.map((r) => r.path)).toEqual(["/model/amazon.titan-embed-text-v2%3A0/invoke", "/model/amazon.titan-embed-text-v2%3A0/invoke"]);
    expect(requests.map((r) => r.body).sort((a, b) => String(a.inputText).localeCompare(String(b.inputText)))).toEqual([
      { inputText: "first text", normalize: true, dimensions: 256 },
      { inputText: "second", normalize: true, dimensions: 256 },
    ]);
  });

  it("passes on the simulator's 403 for a wrong secret, provider named, secret never shown", async () => {
    const ws = await newWorkspace(bedrockConfig("AWS_WRONG_SECRET"));
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "claude", messages: [{ role: "user", content: "Hi" }] });
    expect(res.status).toBe(403);
    const text = await res.text();
    const body = JSON.parse(text) as { error: { message: string; code: string } };
    expect(body.error.message).toMatch(/^aws: InvalidSignatureException: The request signature we calculated does not match/);
    expect(body.error.code).toBe("InvalidSignatureException");
    expect(text).not.toContain(TEST_AWS_CREDENTIALS.AWS_WRONG_SECRET);
    expect(text).not.toContain(TEST_AWS_CREDENTIALS.AWS_SECRET_ACCESS_KEY);
  });

  it("signs temporary credentials with their session token", async () => {
    const ws = await newWorkspace(bedrockConfig("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"));
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "claude", messages: [{ role: "user", content: "Hi" }] });
    expect(res.status).toBe(200);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.headers["x-amz-security-token"]).toBe(TEST_AWS_CREDENTIALS.AWS_SESSION_TOKEN);
    expect(upstream?.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
  });

  it("keeps an upstream error's status and message (ThrottlingException)", async () => {
    const ws = await newWorkspace(bedrockConfig());
    await scriptFaults(ws.scenario, [{ status: 429, message: "Too many requests, please wait before trying again." }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "claude", messages: [{ role: "user", content: "Hi" }] });
    expect(res.status).toBe(429);
    const body = (await res.json()) as { error: { message: string; type: string } };
    expect(body.error.message).toBe("aws: ThrottlingException: Too many requests, please wait before trying again.");
    expect(body.error.type).toBe("rate_limit_error");
  });

  it("fails the client's stream when an exception frame arrives mid-stream, never ending it cleanly", async () => {
    const ws = await newWorkspace(bedrockConfig());
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 3, drop: "exception", message: "The model stopped unexpectedly." }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "claude", stream: true, messages: [{ role: "user", content: "Hi there you" }] });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    let failed = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += value;
      }
    } catch {
      failed = true; // the response stream fails right after the error event, as a broken upstream should look
    }
    expect(failed).toBe(true);
    expect(text).toContain('"content":"Hello "');
    expect(text).not.toContain("[DONE]");
  });

  it("reports an exception frame that arrives before any event as the attempt's error, message kept", async () => {
    const ws = await newWorkspace(bedrockConfig());
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 0, drop: "exception", message: "The model stopped unexpectedly." }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "claude", stream: true, messages: [{ role: "user", content: "Hi" }] });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toBe("aws: The model stopped unexpectedly.");
  });
});
