import { describe, expect, it } from "vitest";
import { anthropicClient, callGateway, newWorkspace, readSSE, upstreamRequests } from "../helpers";

const weatherTool = {
  name: "get_weather",
  description: "Weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

describe("POST /v1/messages with the official Anthropic SDK", () => {
  it("answers from an Anthropic model", async () => {
    const ws = await newWorkspace();
    const message = await anthropicClient(ws.key).messages.create({ model: "anthropic/claude-sonnet-4-5", max_tokens: 100, system: "Be brief.", messages: [{ role: "user", content: "Hello" }] });
    expect(message.content).toEqual([{ type: "text", text: "Hello from the simulator. You said: Hello" }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/v1/messages");
    expect(upstream?.headers["x-api-key"]).toMatch(/^sk-sim/);
    expect(upstream?.body.system).toBe("Be brief.");
  });

  it("translates to an OpenAI model and back", async () => {
    const ws = await newWorkspace();
    const message = await anthropicClient(ws.key).messages.create({ model: "openai/gpt-4o-mini", max_tokens: 50, system: "Be brief.", messages: [{ role: "user", content: "Hi" }], stop_sequences: ["END"] });
    expect(message.content[0]).toEqual({ type: "text", text: "Hello from the simulator. You said: Hi" });
    expect(message.stop_reason).toBe("end_turn");
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/v1/chat/completions");
    expect(upstream?.body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ]);
    expect(upstream?.body.stop).toEqual(["END"]);
    expect(upstream?.body.max_completion_tokens).toBe(50);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it("streams with the exact event sequence, usage in message_start and message_delta", async () => {
    const ws = await newWorkspace();
    for (const model of ["anthropic/claude-sonnet-4-5", "openai/gpt-4o-mini"]) {
      const res = await callGateway(ws.key, "/v1/messages", { model, max_tokens: 100, stream: true, messages: [{ role: "user", content: "Hey" }] });
      const events = (await readSSE(res)).map((f) => f.event).filter((e) => e !== "ping");
      expect(events[0]).toBe("message_start");
      expect(events[1]).toBe("content_block_start");
      expect(events.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
      expect(new Set(events.slice(2, -3))).toEqual(new Set(["content_block_delta"]));

      const stream = anthropicClient(ws.key).messages.stream({ model, max_tokens: 100, messages: [{ role: "user", content: "Hey" }] });
      const final = await stream.finalMessage();
      expect(final.content).toEqual([{ type: "text", text: "Hello from the simulator. You said: Hey" }]);
      expect(final.usage.output_tokens).toBeGreaterThan(0);
      expect(final.usage.input_tokens).toBeGreaterThan(0);
    }
  });

  it("runs a tool round trip against an OpenAI model, plain and streamed", async () => {
    const ws = await newWorkspace();
    const client = anthropicClient(ws.key);
    const first = await client.messages.create({ model: "openai/gpt-4o-mini", max_tokens: 100, tools: [weatherTool], messages: [{ role: "user", content: "Weather in Paris?" }] });
    expect(first.stop_reason).toBe("tool_use");
    const toolUse = first.content.find((b) => b.type === "tool_use");
    expect(toolUse).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });

    const second = await client.messages.create({
      model: "openai/gpt-4o-mini",
      max_tokens: 100,
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse!.type === "tool_use" ? toolUse!.id : "", content: "Sunny, 21C" }] },
      ],
    });
    expect(second.content[0]).toEqual({ type: "text", text: "The tool said: Sunny, 21C" });
    const upstream = await upstreamRequests(ws.scenario);
    const sentMessages = upstream[1]!.body.messages as { role: string; tool_call_id?: string; tool_calls?: unknown[] }[];
    expect(sentMessages.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
    expect(sentMessages[2]!.tool_call_id).toBe(toolUse!.type === "tool_use" ? toolUse!.id : "");

    const streamed = await client.messages.stream({ model: "openai/gpt-4o-mini", max_tokens: 100, tools: [weatherTool], messages: [{ role: "user", content: "Weather?" }] }).finalMessage();
    expect(streamed.stop_reason).toBe("tool_use");
    expect(streamed.content.find((b) => b.type === "tool_use")).toMatchObject({ name: "get_weather", input: { city: "Paris" } });
  });

  it("streams a tool call from an Anthropic model", async () => {
    const ws = await newWorkspace();
    const final = await anthropicClient(ws.key).messages.stream({ model: "anthropic/claude-sonnet-4-5", max_tokens: 100, tools: [weatherTool], messages: [{ role: "user", content: "Weather?" }] }).finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
  });

  it("answers errors in Anthropic's shape", async () => {
    const ws = await newWorkspace();
    const res = await callGateway(ws.key, "/v1/messages", { model: "anthropic/claude-sonnet-4-5", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("max_tokens") } });
  });
});
