import { describe, expect, it } from "vitest";
import { PRICE_TABLE, PriceRowSchema, costOf, priceOf } from "../../src/usage/pricing";

describe("the pricing table", () => {
  it("every row is valid, dated, sourced and unique", () => {
    const keys = new Set<string>();
    for (const row of PRICE_TABLE) {
      expect(PriceRowSchema.parse(row)).toEqual(row);
      expect(row.source).toMatch(/^https:\/\//);
      keys.add(`${row.provider}/${row.model}`);
    }
    expect(keys.size).toBe(PRICE_TABLE.length);
  });

  it("covers the models of every provider type the gateway speaks", () => {
    for (const provider of ["openai", "anthropic"]) expect(PRICE_TABLE.some((row) => row.provider === provider)).toBe(true);
  });

  it("finds dated snapshots by their base model, and an override before the table", () => {
    expect(priceOf("openai", "gpt-4o-mini-2024-07-18")).toMatchObject({ input: 0.15, output: 0.6 });
    expect(priceOf("anthropic", "claude-sonnet-4-5-20250929")).toMatchObject({ input: 3, output: 15 });
    expect(priceOf("openai", "gpt-4o-mini", { "primary/gpt-4o-mini": { input: 1, output: 2 } }, "primary")).toEqual({ input: 1, output: 2 });
  });

  it("an unpriced model has no price and a null cost, never 0", () => {
    const price = priceOf("openai", "no-such-model");
    expect(price).toBeNull();
    expect(costOf({ promptTokens: 10, completionTokens: 10, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, price)).toBeNull();
  });
});
