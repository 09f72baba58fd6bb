import { describe, expect, it } from "vitest";
import { chatRequestToConverse, finishReasonFromBedrock, usageFromBedrock } from "./chat";
import type { ChatRequest } from "../../schema/internal";

const base: ChatRequest = { model: "aws/x", messages: [], stream: false, includeUsage: false };
const tool = { name: "lookup", parameters: { type: "object", properties: {} } };

describe("Bedrock translation", () => {
  it("maps every Converse stop reason", () => {
    expect(["end_turn", "stop_sequence", "tool_use", "max_tokens", "model_context_window_exceeded", "content_filtered", "guardrail_intervened"].map(finishReasonFromBedrock)).toEqual([
      "stop", "stop", "tool_calls", "length", "length", "content_filter", "content_filter",
    ]);
  });

  it("counts cache reads and writes into the prompt and reports them apart", () => {
    expect(usageFromBedrock({ inputTokens: 10, outputTokens: 4, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 })).toEqual({
      promptTokens: 130, completionTokens: 4, cachedTokens: 100, cacheWriteTokens: 20, reasoningTokens: 0,
    });
  });

  it("merges consecutive user turns, drops empty text and leaves tools out for tool_choice none", () => {
    const body = chatRequestToConverse({
      ...base,
      tools: [tool],
      toolChoice: "none",
      messages: [
        { role: "user", content: [{ type: "text", text: "a" }] },
        { role: "user", content: [{ type: "text", text: "" }, { type: "text", text: "b" }] },
      ],
    }, "amazon.nova-lite-v1:0");
    expect(body).toEqual({ messages: [{ role: "user", content: [{ text: "a" }, { text: "b" }] }] });
  });

  it("keeps toolConfig (without a choice) for tool_choice none when the history holds tool blocks, as Converse requires", () => {
    const body = chatRequestToConverse({
      ...base,
      tools: [tool],
      toolChoice: "none",
      messages: [
        { role: "user", content: [{ type: "text", text: "q" }] },
        { role: "assistant", content: [], toolCalls: [{ id: "t1", name: "lookup", arguments: "{}" }] },
        { role: "tool", toolCallId: "t1", content: [{ type: "text", text: "r" }], isError: true },
      ],
    }, "amazon.nova-lite-v1:0");
    expect(body.toolConfig).toEqual({ tools: [{ toolSpec: { name: "lookup", inputSchema: { json: tool.parameters } } }] });
    expect((body.messages as { content: unknown[] }[])[2]?.content).toEqual([{ toolResult: { toolUseId: "t1", content: [{ text: "r" }], status: "error" } }]);
  });
});
