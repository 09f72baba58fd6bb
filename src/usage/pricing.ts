import { z } from "zod";
import type { Usage } from "../schema/internal";

/**
 * The pricing table: USD per million tokens, per provider type and model. Each row names its source and the
 * date it was read. Workspaces may override rows in their config (`pricing`). A model without a row is
 * unpriced: its cost is `null`, never 0.
 */
export const PriceSchema = z.object({
  input: z.number().nonnegative().describe("USD per 1M prompt tokens"),
  output: z.number().nonnegative().describe("USD per 1M completion tokens"),
  cachedInput: z.number().nonnegative().optional().describe("USD per 1M prompt tokens read from the provider's cache (default: input)"),
  cacheWrite: z.number().nonnegative().optional().describe("USD per 1M prompt tokens written to the provider's cache (default: input)"),
  reasoning: z.number().nonnegative().optional().describe("USD per 1M reasoning tokens (default: output)"),
});
export type Price = z.infer<typeof PriceSchema>;

export const PriceRowSchema = PriceSchema.extend({
  provider: z.string(),
  model: z.string(),
  source: z.string(),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});
export type PriceRow = z.infer<typeof PriceRowSchema>;

const OPENAI = "https://openai.com/api/pricing/";
const ANTHROPIC = "https://www.anthropic.com/pricing#api";

export const PRICE_TABLE: readonly PriceRow[] = [
  { provider: "openai", model: "gpt-4o", input: 2.5, cachedInput: 1.25, output: 10, source: OPENAI, date: "2026-11-01" },
  { provider: "openai", model: "gpt-4o-mini", input: 0.15, cachedInput: 0.075, output: 0.6, source: OPENAI, date: "2026-11-01" },
  { provider: "openai", model: "gpt-4.1", input: 2, cachedInput: 0.5, output: 8, source: OPENAI, date: "2026-11-01" },
  { provider: "openai", model: "gpt-4.1-mini", input: 0.4, cachedInput: 0.1, output: 1.6, source: OPENAI, date: "2026-11-01" },
  { provider: "openai", model: "gpt-4.1-nano", input: 0.1, cachedInput: 0.025, output: 0.4, source: OPENAI, date: "2026-11-01" },
  { provider: "openai", model: "gpt-5", input: 1.25, cachedInput: 0.125, output: 10, source: OPENAI, date: "2026-11-27" },
  { provider: "openai", model: "gpt-5-mini", input: 0.25, cachedInput: 0.025, output: 2, source: OPENAI, date: "2026-11-27" },
  { provider: "openai", model: "gpt-5-nano", input: 0.05, cachedInput: 0.005, output: 0.4, source: OPENAI, date: "2026-11-27" },
  { provider: "openai", model: "o3", input: 2, cachedInput: 0.5, output: 8, source: OPENAI, date: "2026-11-01" },
  { provider: "openai", model: "o4-mini", input: 1.1, cachedInput: 0.275, output: 4.4, source: OPENAI, date: "2026-11-01" },
  { provider: "openai", model: "text-embedding-3-small", input: 0.02, output: 0, source: OPENAI, date: "2026-11-01" },
  { provider: "openai", model: "text-embedding-3-large", input: 0.13, output: 0, source: OPENAI, date: "2026-11-01" },
  { provider: "anthropic", model: "claude-opus-4-1", input: 15, cachedInput: 1.5, cacheWrite: 18.75, output: 75, source: ANTHROPIC, date: "2026-11-01" },
  { provider: "anthropic", model: "claude-opus-4-5", input: 5, cachedInput: 0.5, cacheWrite: 6.25, output: 25, source: ANTHROPIC, date: "2026-11-27" },
  { provider: "anthropic", model: "claude-sonnet-4-5", input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15, source: ANTHROPIC, date: "2026-11-01" },
  { provider: "anthropic", model: "claude-sonnet-4-0", input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15, source: ANTHROPIC, date: "2026-11-01" },
  { provider: "anthropic", model: "claude-haiku-4-5", input: 1, cachedInput: 0.1, cacheWrite: 1.25, output: 5, source: ANTHROPIC, date: "2026-11-01" },
  { provider: "anthropic", model: "claude-3-5-haiku-latest", input: 0.8, cachedInput: 0.08, cacheWrite: 1, output: 4, source: ANTHROPIC, date: "2026-11-01" },
];

const byKey = new Map(PRICE_TABLE.map((row) => [`${row.provider}/${row.model}`, row]));

/**
 * The price of a model: a workspace override (keyed `providerName/model`) first, then the table by provider
 * type; dated model snapshots (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`) fall back to their base row.
 */
export function priceOf(providerType: string, model: string, overrides?: Record<string, Price>, providerName?: string): Price | null {
  const override = overrides?.[`${providerName ?? providerType}/${model}`];
  if (override) return override;
  const exact = byKey.get(`${providerType}/${model}`);
  if (exact) return exact;
  const base = model.replace(/-(?:\d{4}-\d{2}-\d{2}|\d{8})$/, "");
  return byKey.get(`${providerType}/${base}`) ?? null;
}

/** Cost in USD of the tokens in `usage` at `price`; `null` when the model is unpriced. */
export function costOf(usage: Usage, price: Price | null): number | null {
  if (!price) return null;
  const uncachedPrompt = usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens;
  const visibleCompletion = usage.completionTokens - usage.reasoningTokens;
  const micro =
    uncachedPrompt * price.input +
    usage.cachedTokens * (price.cachedInput ?? price.input) +
    usage.cacheWriteTokens * (price.cacheWrite ?? price.input) +
    visibleCompletion * price.output +
    usage.reasoningTokens * (price.reasoning ?? price.output);
  return micro / 1_000_000;
}
