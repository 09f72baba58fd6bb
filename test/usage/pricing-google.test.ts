import { describe, expect, it } from "vitest";
import { costOf, priceOf } from "../../src/usage/pricing";

describe("Gemini and Vertex AI prices", () => {
  it("prices Gemini usage with cached and thinking tokens apart", () => {
    const price = priceOf("gemini", "gemini-2.5-flash");
    // 1M prompt tokens of which 400k cached, 200k completion tokens of which 150k thinking (billed as output).
    const cost = costOf({ promptTokens: 1_000_000, cachedTokens: 400_000, cacheWriteTokens: 0, completionTokens: 200_000, reasoningTokens: 150_000 }, price);
    expect(cost).toBeCloseTo(0.6 * 0.3 + 0.4 * 0.03 + 0.2 * 2.5, 10);
  });

  it("finds Vertex AI's rows, Claude's `@date` snapshots included", () => {
    expect(priceOf("vertex", "gemini-2.0-flash")?.input).toBe(0.15);
    expect(priceOf("vertex", "claude-sonnet-4-5@20250929")?.output).toBe(15);
    expect(priceOf("gemini", "gemini-embedding-001")?.input).toBe(0.15);
  });
});
