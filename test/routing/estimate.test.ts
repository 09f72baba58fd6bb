import { describe, expect, it } from "vitest";
import { estimatePromptTokens, estimateTextTokens } from "../../src/routing/estimate";

describe("prompt size estimate", () => {
  it("counts about four characters per token over messages, tool calls and tool definitions", () => {
    const tokens = estimatePromptTokens({
      messages: [
        { role: "system", content: [{ type: "text", text: "x".repeat(400) }] },
        { role: "user", content: [{ type: "text", text: "y".repeat(400) }] },
        { role: "assistant", content: [], toolCalls: [{ id: "c1", name: "abcd", arguments: "z".repeat(396) }] },
      ],
      tools: [{ name: "abcd", parameters: {} }],
    });
    // 400 + 400 + (4 + 396) chars of messages, 4 + 2 chars of the tool: 1206 / 4, rounded up.
    expect(tokens).toBe(302);
    expect(estimateTextTokens(["abcd", "efgh"])).toBe(2);
  });

  it("gives images a fixed weight", () => {
    const withImage = estimatePromptTokens({ messages: [{ role: "user", content: [{ type: "image", source: { kind: "url", url: "https://x/y.png" } }] }] });
    expect(withImage).toBe(765);
  });
});
