import { describe, expect, it } from "vitest";
import { GatewayConfigSchema } from "../../src/config/schema";
import { PRICE_TABLE, costOf, priceKeyOf, priceOf } from "../../src/usage/pricing";

describe("prices of Bedrock, Azure and OpenAI-compatible models", () => {
  it("prices Bedrock models, cross-region inference profiles included, cache reads and writes apart", () => {
    const price = priceOf("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    expect(price).toMatchObject({ input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 });
    const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000, cachedTokens: 500_000, cacheWriteTokens: 100_000, reasoningTokens: 0 };
    expect(costOf(usage, price)).toBeCloseTo(400_000 * 3e-6 + 500_000 * 0.3e-6 + 100_000 * 3.75e-6 + 15, 10);
    expect(priceOf("bedrock", "amazon.titan-embed-text-v2:0")).toMatchObject({ input: 0.02, output: 0 });
  });

  it("prices compatible models per preset, and leaves a preset-less server unpriced", () => {
    const { providers } = GatewayConfigSchema.parse({
      providers: {
        fast: { type: "openai-compatible", preset: "groq", apiKey: { env: "K" } },
        mine: { type: "openai-compatible", baseURL: "http://10.0.0.1:8000/v1" },
        az: { type: "azure", baseURL: "https://r.openai.azure.com", apiKey: { env: "K" } },
      },
    });
    expect(priceOf(priceKeyOf(providers.fast!), "llama-3.3-70b-versatile")).toMatchObject({ input: 0.59, output: 0.79 });
    expect(priceOf(priceKeyOf(providers.mine!), "llama-3.3-70b-versatile")).toBeNull();
    expect(priceOf(priceKeyOf(providers.az!), "gpt-4o-mini")).toMatchObject({ input: 0.15 });
  });

  it("gives every row a source and a date", () => {
    for (const row of PRICE_TABLE) {
      expect(row.source).toMatch(/^https:\/\//);
      expect(row.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });
});
