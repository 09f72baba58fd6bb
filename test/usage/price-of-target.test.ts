import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/validate";
import { PRICE_TABLE, priceOfTarget } from "../../src/usage/pricing";

const config = (() => {
  const parsed = parseConfig({
    providers: {
      fast: { type: "openai-compatible", preset: "groq", apiKey: { env: "GROQ_API_KEY" } },
      main: { type: "openai", apiKey: { env: "OPENAI_API_KEY" } },
    },
    pricing: { "main/gpt-4o-mini": { input: 1, output: 2 } },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config;
})();

describe("priceOfTarget: one price for usage cost, budgets and the cost strategy", () => {
  it("prices an OpenAI-compatible provider by its preset's rows", () => {
    const row = PRICE_TABLE.find((r) => r.provider === "groq")!;
    expect(priceOfTarget(config, "fast", row.model)).toMatchObject({ input: row.input, output: row.output });
  });

  it("lets the workspace's pricing override win over the table", () => {
    expect(priceOfTarget(config, "main", "gpt-4o-mini")).toEqual({ input: 1, output: 2 });
    expect(priceOfTarget(config, "main", "gpt-4o")).toMatchObject({ input: 2.5, output: 10 });
  });

  it("leaves an unknown model unpriced", () => {
    expect(priceOfTarget(config, "main", "no-such-model")).toBeNull();
  });
});
