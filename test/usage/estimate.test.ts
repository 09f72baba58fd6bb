import { describe, expect, it } from "vitest";
import { estimateChatRequest, estimateEmbeddingsRequest, estimateTextTokens } from "../../src/usage/estimate";

describe("the one token estimate", () => {
  it("counts ASCII at 3 characters a token, plus 4 per message, over messages, tool calls and tool definitions", () => {
    const estimate = estimateChatRequest({
      messages: [
        { role: "system", content: [{ type: "text", text: "x".repeat(300) }] },
        { role: "user", content: [{ type: "text", text: "y".repeat(300) }] },
        { role: "assistant", content: [], toolCalls: [{ id: "c1", name: "abc", arguments: "z".repeat(297) }] },
      ],
      maxTokens: 50,
    });
    // (300 + 300 + 3 + 297) / 3 + 3 messages × 4.
    expect(estimate).toEqual({ promptTokens: 312, maxOutputTokens: 50 });
    expect(estimateEmbeddingsRequest({ input: ["abc", "def"] })).toEqual({ promptTokens: 2, maxOutputTokens: 0 });
  });

  it("never under-counts dense scripts: 1.5 tokens per CJK character, 2 per emoji, 1 per accented letter", () => {
    expect(estimateTextTokens("漢字かなカナ한글")).toBe(12);
    expect(estimateTextTokens("😀😀")).toBe(4);
    expect(estimateTextTokens("éèêë")).toBe(4);
    // A 3,000-character CJK prompt: 4,500 tokens, where characters / 3 said 1,000.
    expect(estimateChatRequest({ messages: [{ role: "user", content: [{ type: "text", text: "语".repeat(3_000) }] }], maxTokens: undefined }).promptTokens).toBe(4_504);
  });

  it("gives images a fixed weight", () => {
    const withImage = estimateChatRequest({ messages: [{ role: "user", content: [{ type: "image", source: { kind: "url", url: "https://x/y.png" } }] }], maxTokens: undefined });
    expect(withImage.promptTokens).toBe(1_604);
  });
});
