import { APIError } from "openai";
import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { anthropicClient, callGateway, newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests } from "../helpers";
import { embeddingOf } from "../simulators/openai";

const geminiConfig = (scenario: string): GatewayConfigInput => ({
  providers: { gemini: { type: "gemini", baseURL: `${simulatorOrigin()}/s/${scenario}/gemini`, apiKey: { env: "GEMINI_API_KEY" } } },
});

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: ["string", "null"] } }, required: ["city"], additionalProperties: false },
    strict: true,
  },
};

/** The simulator's deterministic usage for this system prompt and message on a gemini-2.5 model. */
const EXPECTED_USAGE = {
  prompt_tokens: 5, // "Be brief." + "Hi there": 17 characters
  completion_tokens: 19, // 11 answer tokens + 8 thought tokens
  total_tokens: 24,
  prompt_tokens_details: { cached_tokens: 3 }, // the system instruction
  completion_tokens_details: { reasoning_tokens: 8 },
};

describe("Gemini provider", () => {
  it("answers through the openai SDK with translated settings and exact usage", async () => {
    const ws = await newWorkspace(geminiConfig);
    const completion = await openAIClient(ws.key).chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi there" },
      ],
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 100,
      stop: ["END"],
      seed: 7,
    });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi there");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.model).toBe("gemini-2.5-flash");
    expect(completion.usage).toMatchObject(EXPECTED_USAGE);

    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(upstream?.headers["x-goog-api-key"]).toBe("sk-sim-gemini-secret-value");
    expect(upstream?.body).toEqual({
      contents: [{ role: "user", parts: [{ text: "Hi there" }] }],
      systemInstruction: { parts: [{ text: "Be brief." }] },
      generationConfig: { temperature: 0.3, topP: 0.9, maxOutputTokens: 100, stopSequences: ["END"], seed: 7 },
    });
  });

  it("streams with include_usage, usage exact in the final chunk", async () => {
    const ws = await newWorkspace(geminiConfig);
    const stream = await openAIClient(ws.key).chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi there" },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: unknown;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello from the simulator. You said: Hi there");
    expect(chunks).toBeGreaterThan(4); // mapped chunk by chunk, not buffered into one
    expect(finish).toBe("stop");
    expect(usage).toMatchObject(EXPECTED_USAGE);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  });

  it("calls a tool and maps the tool result back to the function by name", async () => {
    const ws = await newWorkspace(geminiConfig);
    const client = openAIClient(ws.key);
    const first = await client.chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Paris", unit: "Paris" });
    expect(call?.id).toMatch(/^call_[A-Za-z0-9_-]+$/);

    const second = await client.chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      messages: [{ role: "user", content: "Weather in Paris?" }, first.choices[0]!.message, { role: "tool", tool_call_id: call!.id, content: "sunny" }],
      tools: [weatherTool],
    });
    expect(second.choices[0]?.message.content).toBe('The tool said: {"output":"sunny"}');

    const [firstUpstream, secondUpstream] = await upstreamRequests(ws.scenario);
    expect(firstUpstream?.body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: "get_weather",
            description: "The weather in a city",
            parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", nullable: true } }, required: ["city"] },
          },
        ],
      },
    ]);
    expect(firstUpstream?.body.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } });
    expect(secondUpstream?.body.contents).toEqual([
      { role: "user", parts: [{ text: "Weather in Paris?" }] },
      { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris", unit: "Paris" } } }] },
      { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { output: "sunny" } } }] },
    ]);
  });

  it("carries Gemini 3's thought signature through the tool call id, whole and streamed", async () => {
    const ws = await newWorkspace(geminiConfig);
    const client = openAIClient(ws.key);
    const ask = { model: "gemini/gemini-3-pro-preview", messages: [{ role: "user" as const, content: "Weather in Paris?" }], tools: [weatherTool] };
    const first = await client.chat.completions.create(ask);
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.id).toMatch(/^call_[A-Za-z0-9_-]+__ts_[A-Za-z0-9_-]+$/);
    const answer = await client.chat.completions.create({ ...ask, messages: [...ask.messages, first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "sunny" }] });
    expect(answer.choices[0]?.message.content).toBe('The tool said: {"output":"sunny"}');

    let streamedId = "";
    for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) streamedId ||= chunk.choices[0]?.delta.tool_calls?.[0]?.id ?? "";
    const streamedAnswer = await client.chat.completions.create({
      ...ask,
      messages: [...ask.messages, { role: "assistant", tool_calls: [{ id: streamedId, type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }, { role: "tool", tool_call_id: streamedId, content: "rain" }],
    });
    expect(streamedAnswer.choices[0]?.message.content).toBe('The tool said: {"output":"rain"}');

    // A history without signatures (calls made elsewhere) gets Google's documented stand-in.
    const foreign = await client.chat.completions.create({
      ...ask,
      messages: [...ask.messages, { role: "assistant", tool_calls: [{ id: "call_other", type: "function", function: { name: "get_weather", arguments: "{}" } }] }, { role: "tool", tool_call_id: "call_other", content: "fog" }],
    });
    expect(foreign.choices[0]?.message.content).toBe('The tool said: {"output":"fog"}');
    const requests = await upstreamRequests(ws.scenario);
    const replayedSignature = (request: (typeof requests)[number] | undefined) => (request?.body.contents as { parts: { thoughtSignature?: string }[] }[])[1]?.parts[0]?.thoughtSignature;
    // The simulator's signatures start with "+/" and end in "=": restored exactly, not replaced by the stand-in.
    expect(replayedSignature(requests[1])).toMatch(/^\+\/[A-Za-z0-9+/]+=$/);
    expect(replayedSignature(requests[3])).toMatch(/^\+\/[A-Za-z0-9+/]+=$/);
    expect(replayedSignature(requests[4])).toBe("skip_thought_signature_validator");
  });

  it("streams a tool call", async () => {
    const ws = await newWorkspace(geminiConfig);
    const stream = await openAIClient(ws.key).chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weatherTool],
      stream: true,
      stream_options: { include_usage: true },
    });
    let id = "";
    let name = "";
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        id ||= call.id ?? "";
        name += call.function?.name ?? "";
        args += call.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(id).toMatch(/^call_/);
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toEqual({ city: "Paris", unit: "Paris" });
    expect(finish).toBe("tool_calls");
  });

  it("answers /v1/messages through the Anthropic SDK, plain and streamed", async () => {
    const ws = await newWorkspace(geminiConfig);
    const client = anthropicClient(ws.key);
    const message = await client.messages.create({ model: "gemini/gemini-2.5-flash", max_tokens: 200, system: "Be brief.", messages: [{ role: "user", content: "Hi there" }] });
    expect(message.content).toHaveLength(1);
    expect(message.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hi there" });
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({ input_tokens: 2, cache_read_input_tokens: 3, output_tokens: 19 });

    const streamed = await client.messages.stream({ model: "gemini/gemini-2.5-flash", max_tokens: 200, messages: [{ role: "user", content: "Hi there" }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hi there" });
    expect(streamed.stop_reason).toBe("end_turn");
    expect(streamed.usage.output_tokens).toBe(19);
  });

  it("returns the simulator's vectors from batchEmbedContents", async () => {
    const ws = await newWorkspace(geminiConfig);
    const result = await openAIClient(ws.key).embeddings.create({ model: "gemini/gemini-embedding-001", input: ["alpha", "beta"], dimensions: 4 });
    expect(result.data.map((d) => d.embedding)).toEqual([embeddingOf("alpha", 4), embeddingOf("beta", 4)]);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(upstream?.body.requests).toEqual([
      { model: "models/gemini-embedding-001", content: { parts: [{ text: "alpha" }] }, outputDimensionality: 4 },
      { model: "models/gemini-embedding-001", content: { parts: [{ text: "beta" }] }, outputDimensionality: 4 },
    ]);
  });

  it("maps safety blocks to finish_reason content_filter, whole and streamed", async () => {
    const ws = await newWorkspace(geminiConfig);
    const client = openAIClient(ws.key);
    const blockedPrompt = await client.chat.completions.create({ model: "gemini/gemini-2.0-flash", messages: [{ role: "user", content: "[block] something" }] });
    expect(blockedPrompt.choices[0]?.finish_reason).toBe("content_filter");
    expect(blockedPrompt.choices[0]?.message.content).toBe("");
    const unsafeAnswer = await client.chat.completions.create({ model: "gemini/gemini-2.0-flash", messages: [{ role: "user", content: "[unsafe] something" }] });
    expect(unsafeAnswer.choices[0]?.finish_reason).toBe("content_filter");

    const stream = await client.chat.completions.create({ model: "gemini/gemini-2.0-flash", messages: [{ role: "user", content: "[block] something" }], stream: true });
    let finish: string | null = null;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    expect(finish).toBe("content_filter");
  });

  it("keeps an upstream error's status and message, with the provider named and no key", async () => {
    const ws = await newWorkspace(geminiConfig);
    await scriptFaults(ws.scenario, [{ status: 429, message: "Resource has been exhausted (e.g. check quota)." }, { status: 400, message: "Invalid value at 'generation_config.temperature'" }]);
    const client = openAIClient(ws.key);
    const limited = await client.chat.completions.create({ model: "gemini/gemini-2.0-flash", messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(APIError);
    expect((limited as APIError).status).toBe(429);
    expect((limited as APIError).message).toContain("gemini: Resource has been exhausted (e.g. check quota).");
    expect((limited as APIError).type).toBe("rate_limit_error");

    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "gemini/gemini-2.0-flash", messages: [{ role: "user", content: "Hi" }] });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(JSON.parse(text).error).toMatchObject({ message: "gemini: Invalid value at 'generation_config.temperature'", type: "invalid_request_error", code: "INVALID_ARGUMENT" });
    expect(text).not.toContain("sk-sim-gemini");
  });

  it("passes images as inlineData (base64) and fileData (URL)", async () => {
    const ws = await newWorkspace(geminiConfig);
    await openAIClient(ws.key).chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare these" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.webp" } },
          ],
        },
      ],
    });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.contents).toEqual([
      {
        role: "user",
        parts: [
          { text: "Compare these" },
          { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
          { fileData: { mimeType: "image/webp", fileUri: "https://example.com/cat.webp" } },
        ],
      },
    ]);
  });

  it("asks for JSON with a Gemini-compatible response schema", async () => {
    const ws = await newWorkspace(geminiConfig);
    await callGateway(ws.key, "/v1/chat/completions", {
      model: "gemini/gemini-2.0-flash",
      messages: [{ role: "user", content: "A city" }],
      response_format: { type: "json_schema", json_schema: { name: "city", strict: true, schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"], additionalProperties: false } } },
    });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.generationConfig).toEqual({
      responseMimeType: "application/json",
      responseSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
    });
  });

  it("maps reasoning_effort to the thinking config each model generation takes", async () => {
    const ws = await newWorkspace(geminiConfig);
    for (const model of ["gemini-2.5-flash", "gemini-3-pro-preview", "gemini-2.0-flash"]) {
      await callGateway(ws.key, "/v1/chat/completions", { model: `gemini/${model}`, reasoning_effort: "low", messages: [{ role: "user", content: "Think" }] });
    }
    const configs = (await upstreamRequests(ws.scenario)).map((r) => r.body.generationConfig);
    expect(configs).toEqual([{ thinkingConfig: { thinkingBudget: 1024 } }, { thinkingConfig: { thinkingLevel: "low" } }, undefined]);
  });

  it("reports a stream cut before its finishReason as broken, not complete", async () => {
    const ws = await newWorkspace(geminiConfig);
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 2, drop: "truncate" }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "gemini/gemini-2.0-flash", stream: true, messages: [{ role: "user", content: "Tell me a longer story please" }] });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let failed = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);
    expect(text).toContain('"content":"from "');
    expect(text).not.toContain('"finish_reason":"stop"');
    expect(text).not.toContain("[DONE]");
  });
});
