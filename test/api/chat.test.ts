import { describe, expect, it } from "vitest";
import { callGateway, gateway, newWorkspace, openAIClient, readSSE, readUntilFailure, scriptFaults, upstreamRequests } from "../helpers";

const weatherTool = {
  type: "function" as const,
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

describe("POST /v1/chat/completions with the official OpenAI SDK", () => {
  it("answers through a route", async () => {
    const ws = await newWorkspace();
    const completion = await openAIClient(ws.key).chat.completions.create({ model: "smart", messages: [{ role: "user", content: "Hi there" }] });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi there");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.model).toBe("gpt-4o-mini");
    expect(upstream?.headers.authorization).toMatch(/^Bearer sk-sim/);
  });

  it("passes the full request through to an OpenAI model", async () => {
    const ws = await newWorkspace();
    await openAIClient(ws.key).chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [
        { role: "developer", content: "Be terse." },
        { role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } }] },
      ],
      temperature: 0.2,
      top_p: 0.9,
      stop: ["\n\n"],
      seed: 7,
      max_completion_tokens: 64,
      user: "u-1",
      metadata: { team: "search" },
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object", properties: { a: { type: "string" } } }, strict: true } },
      tools: [weatherTool],
      tool_choice: "none",
      parallel_tool_calls: false,
    });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body).toMatchObject({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } }] },
      ],
      temperature: 0.2,
      top_p: 0.9,
      stop: ["\n\n"],
      seed: 7,
      max_completion_tokens: 64,
      user: "u-1",
      metadata: { team: "search" },
      response_format: { type: "json_schema", json_schema: { name: "answer", strict: true } },
      tool_choice: "none",
      parallel_tool_calls: false,
    });
  });

  it("streams with include_usage: the final chunk has choices [] and the usage", async () => {
    const ws = await newWorkspace();
    for (const model of ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"]) {
      const stream = await openAIClient(ws.key).chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Hi" }] });
      let text = "";
      const chunks = [];
      for await (const chunk of stream) {
        chunks.push(chunk);
        text += chunk.choices[0]?.delta.content ?? "";
      }
      expect(text).toBe("Hello from the simulator. You said: Hi");
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage?.total_tokens).toBe((last.usage?.prompt_tokens ?? 0) + (last.usage?.completion_tokens ?? 0));
      expect(last.usage?.completion_tokens).toBeGreaterThan(0);
      expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    }
  });

  it("does not send the usage chunk when the client did not ask, but still asks upstream", async () => {
    const ws = await newWorkspace();
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: "Hi" }] });
    const frames = await readSSE(res);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
    expect(chunks.every((c) => c.choices.length === 1 && !("usage" in c))).toBe(true);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.stream_options).toEqual({ include_usage: true });
  });

  it("translates to an Anthropic model: system, images, stop, usage and finish reason", async () => {
    const ws = await newWorkspace();
    const completion = await openAIClient(ws.key).chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: [{ type: "text", text: "Look" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }, { type: "image_url", image_url: { url: "https://example.com/a.png" } }] },
      ],
      max_tokens: 3,
      stop: ["END"],
    });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body).toMatchObject({
      model: "claude-sonnet-4-5",
      system: "Be terse.",
      max_tokens: 3,
      stop_sequences: ["END"],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Look" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
          ],
        },
      ],
    });
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("runs a tool call round trip against an Anthropic model, plain and streamed", async () => {
    const ws = await newWorkspace();
    const client = openAIClient(ws.key);
    const first = await client.chat.completions.create({ model: "anthropic/claude-sonnet-4-5", tools: [weatherTool], tool_choice: "required", messages: [{ role: "user", content: "Weather in Paris?" }] });
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.type === "function" && call.function.name).toBe("get_weather");
    expect(call.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });

    const second = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      tools: [weatherTool],
      messages: [{ role: "user", content: "Weather in Paris?" }, first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "Sunny" }],
    });
    expect(second.choices[0]?.message.content).toBe("The tool said: Sunny");
    const upstream = await upstreamRequests(ws.scenario);
    expect(upstream[0]?.body.tool_choice).toEqual({ type: "any" });
    expect(upstream[1]?.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] },
      { role: "assistant", content: [{ type: "tool_use", id: call.id, name: "get_weather", input: { city: "Paris" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: [{ type: "text", text: "Sunny" }] }] },
    ]);

    for (const model of ["anthropic/claude-sonnet-4-5", "openai/gpt-4o-mini"]) {
      const stream = await client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, tools: [weatherTool], messages: [{ role: "user", content: "Weather?" }] });
      let args = "";
      let name = "";
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta.tool_calls?.[0];
        name += delta?.function?.name ?? "";
        args += delta?.function?.arguments ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(name).toBe("get_weather");
      expect(JSON.parse(args)).toEqual({ city: "Paris" });
      expect(finish).toBe("tool_calls");
    }
  });

  it("reports a stream that breaks off mid-way as an error, never a clean end", async () => {
    const ws = await newWorkspace();
    for (const [model, drop] of [["openai/gpt-4o-mini", "abort"], ["openai/gpt-4o-mini", "truncate"], ["anthropic/claude-sonnet-4-5", "abort"], ["anthropic/claude-sonnet-4-5", "truncate"]] as const) {
      await scriptFaults(ws.scenario, [{ dropAfterEvents: 5, drop, chunkDelayMs: 10 }]);
      const stream = await openAIClient(ws.key).chat.completions.create({ model, stream: true, messages: [{ role: "user", content: "Tell me a long story" }] });
      let received = "";
      const consume = async () => {
        for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? "";
      };
      await expect(consume(), `${model} ${drop}`).rejects.toThrow(/broke off|stream/i);
      expect(received.length).toBeGreaterThan(0);
    }
  });

  it("sends the error event before failing the stream", async () => {
    const ws = await newWorkspace();
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 2, drop: "abort", chunkDelayMs: 10 }, { dropAfterEvents: 2, drop: "truncate" }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: "Hi you" }] });
    const text = await readUntilFailure(res);
    expect(text).toContain('"error"');
    expect(text).not.toContain("[DONE]");

    const anthropic = await callGateway(ws.key, "/v1/messages", { model: "openai/gpt-4o-mini", max_tokens: 10, stream: true, messages: [{ role: "user", content: "Hi you" }] });
    const anthropicText = await readUntilFailure(anthropic);
    expect(anthropicText).toContain("event: error");
    expect(anthropicText).not.toContain("message_stop");
  });
});

describe("POST /v1/embeddings", () => {
  it("returns float vectors, and base64 as the OpenAI SDK asks by default", async () => {
    const ws = await newWorkspace();
    const client = openAIClient(ws.key);
    const floats = await client.embeddings.create({ model: "openai/text-embedding-3-small", input: ["alpha", "beta"], encoding_format: "float" });
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0]?.embedding).toHaveLength(8);
    const viaSdkDefault = await client.embeddings.create({ model: "openai/text-embedding-3-small", input: ["alpha", "beta"] });
    expect(viaSdkDefault.data[1]?.embedding).toEqual(floats.data[1]?.embedding);
    expect(viaSdkDefault.usage.prompt_tokens).toBeGreaterThan(0);

    const raw = await callGateway(ws.key, "/v1/embeddings", { model: "openai/text-embedding-3-small", input: "alpha", encoding_format: "base64" });
    const body = (await raw.json()) as { data: { embedding: string }[] };
    expect(typeof body.data[0]?.embedding).toBe("string");
  });

  it("refuses embeddings from a provider without them", async () => {
    const ws = await newWorkspace();
    const res = await callGateway(ws.key, "/v1/embeddings", { model: "anthropic/claude-sonnet-4-5", input: "x" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unsupported_operation");
  });
});

describe("GET /v1/models", () => {
  it("lists routes and route targets in OpenAI's list shape", async () => {
    const ws = await newWorkspace();
    const list = await openAIClient(ws.key).models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toContain("smart");
    expect(ids).toContain("openai/gpt-4o-mini");
  });
});

describe("response headers", () => {
  it("echo the client's x-request-id or generate one, and report the gateway's overhead", async () => {
    const ws = await newWorkspace();
    const sent = await callGateway(ws.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "x" }] }, { "x-request-id": "my-trace-123" });
    expect(sent.headers.get("x-request-id")).toBe("my-trace-123");
    expect(Number(sent.headers.get("x-switchyard-overhead-ms"))).toBeGreaterThanOrEqual(0);
    expect(sent.headers.get("x-switchyard-provider")).toBe("openai");
    expect(sent.headers.get("x-switchyard-model")).toBe("gpt-4o-mini");
    const generated = await gateway("/v1/models");
    expect(generated.headers.get("x-request-id")).toMatch(/^req_/);
    expect(generated.headers.get("x-switchyard-overhead-ms")).not.toBeNull();
  });
});
