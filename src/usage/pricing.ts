import * as z from "zod";
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
  training: z.number().nonnegative().optional().describe("USD per 1M trained tokens of fine-tuning jobs on this (base) model"),
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
const GEMINI = "https://ai.google.dev/gemini-api/docs/pricing";
const VERTEX = "https://cloud.google.com/vertex-ai/generative-ai/pricing";
const BEDROCK = "https://aws.amazon.com/bedrock/pricing/";
const AZURE = "https://azure.microsoft.com/en-us/pricing/details/cognitive-services/openai-service/";

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
  // Gemini: thinking tokens bill at the output rate; gemini-2.5-pro's dearer tier for prompts over 200k tokens
  // ($2.50 in, $15 out) is not modelled. Context-cache storage (per hour) is billed apart and not counted here.
  { provider: "gemini", model: "gemini-2.5-pro", input: 1.25, cachedInput: 0.125, output: 10, source: GEMINI, date: "2026-11-27" },
  { provider: "gemini", model: "gemini-2.5-flash", input: 0.3, cachedInput: 0.03, output: 2.5, source: GEMINI, date: "2026-11-27" },
  { provider: "gemini", model: "gemini-2.5-flash-lite", input: 0.1, cachedInput: 0.01, output: 0.4, source: GEMINI, date: "2026-11-27" },
  { provider: "gemini", model: "gemini-2.0-flash", input: 0.1, cachedInput: 0.025, output: 0.4, source: GEMINI, date: "2026-11-27" },
  { provider: "gemini", model: "gemini-embedding-001", input: 0.15, output: 0, source: GEMINI, date: "2026-11-27" },
  { provider: "gemini", model: "text-embedding-004", input: 0, output: 0, source: GEMINI, date: "2026-11-27" },
  { provider: "vertex", model: "gemini-2.5-pro", input: 1.25, cachedInput: 0.125, output: 10, source: VERTEX, date: "2026-11-27" },
  { provider: "vertex", model: "gemini-2.5-flash", input: 0.3, cachedInput: 0.03, output: 2.5, source: VERTEX, date: "2026-11-27" },
  { provider: "vertex", model: "gemini-2.5-flash-lite", input: 0.1, cachedInput: 0.01, output: 0.4, source: VERTEX, date: "2026-11-27" },
  { provider: "vertex", model: "gemini-2.0-flash", input: 0.15, cachedInput: 0.0375, output: 0.6, source: VERTEX, date: "2026-11-27" },
  { provider: "vertex", model: "gemini-embedding-001", input: 0.15, output: 0, source: VERTEX, date: "2026-11-27" },
  // Vertex bills text-embedding-004 per character ($0.000025 / 1k); this is that at Google's ~4 characters a token.
  { provider: "vertex", model: "text-embedding-004", input: 0.1, output: 0, source: VERTEX, date: "2026-11-27" },
  // Claude on Vertex AI, at its global endpoint.
  { provider: "vertex", model: "claude-opus-4-1", input: 15, cachedInput: 1.5, cacheWrite: 18.75, output: 75, source: VERTEX, date: "2026-11-27" },
  { provider: "vertex", model: "claude-sonnet-4-5", input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15, source: VERTEX, date: "2026-11-27" },
  { provider: "vertex", model: "claude-haiku-4-5", input: 1, cachedInput: 0.1, cacheWrite: 1.25, output: 5, source: VERTEX, date: "2026-11-27" },
  // Bedrock on-demand, us-east-1 (cross-region profiles `us.`/`eu.`/`apac.`/`global.` fall back to these rows).
  { provider: "bedrock", model: "anthropic.claude-opus-4-1-20250805-v1:0", input: 15, cachedInput: 1.5, cacheWrite: 18.75, output: 75, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "anthropic.claude-sonnet-4-5-20250929-v1:0", input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "anthropic.claude-sonnet-4-20250514-v1:0", input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "anthropic.claude-3-7-sonnet-20250219-v1:0", input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "anthropic.claude-haiku-4-5-20251001-v1:0", input: 1, cachedInput: 0.1, cacheWrite: 1.25, output: 5, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "anthropic.claude-3-5-haiku-20241022-v1:0", input: 0.8, cachedInput: 0.08, cacheWrite: 1, output: 4, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "amazon.nova-pro-v1:0", input: 0.8, cachedInput: 0.2, output: 3.2, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "amazon.nova-lite-v1:0", input: 0.06, cachedInput: 0.015, output: 0.24, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "amazon.nova-micro-v1:0", input: 0.035, cachedInput: 0.00875, output: 0.14, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "meta.llama4-maverick-17b-instruct-v1:0", input: 0.24, output: 0.97, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "meta.llama3-3-70b-instruct-v1:0", input: 0.72, output: 0.72, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "meta.llama3-1-8b-instruct-v1:0", input: 0.22, output: 0.22, source: BEDROCK, date: "2026-11-27" },
  { provider: "bedrock", model: "amazon.titan-embed-text-v2:0", input: 0.02, output: 0, source: BEDROCK, date: "2026-11-27" },
  // Azure OpenAI, Global Standard deployments (priced by model name: name deployments after their model to be priced).
  { provider: "azure", model: "gpt-4o", input: 2.5, cachedInput: 1.25, output: 10, source: AZURE, date: "2026-11-27" },
  { provider: "azure", model: "gpt-4o-mini", input: 0.15, cachedInput: 0.075, output: 0.6, source: AZURE, date: "2026-11-27" },
  { provider: "azure", model: "gpt-4.1", input: 2, cachedInput: 0.5, output: 8, source: AZURE, date: "2026-11-27" },
  { provider: "azure", model: "gpt-4.1-mini", input: 0.4, cachedInput: 0.1, output: 1.6, source: AZURE, date: "2026-11-27" },
  { provider: "azure", model: "o4-mini", input: 1.1, cachedInput: 0.275, output: 4.4, source: AZURE, date: "2026-11-27" },
  { provider: "azure", model: "text-embedding-3-small", input: 0.02, output: 0, source: AZURE, date: "2026-11-27" },
  { provider: "azure", model: "text-embedding-3-large", input: 0.13, output: 0, source: AZURE, date: "2026-11-27" },
  // OpenAI-compatible presets, keyed by preset name (see priceKeyOf).
  { provider: "groq", model: "llama-3.3-70b-versatile", input: 0.59, output: 0.79, source: "https://groq.com/pricing", date: "2026-11-27" },
  { provider: "groq", model: "llama-3.1-8b-instant", input: 0.05, output: 0.08, source: "https://groq.com/pricing", date: "2026-11-27" },
  { provider: "deepseek", model: "deepseek-chat", input: 0.27, cachedInput: 0.07, output: 1.1, source: "https://api-docs.deepseek.com/quick_start/pricing", date: "2026-11-27" },
  { provider: "deepseek", model: "deepseek-reasoner", input: 0.55, cachedInput: 0.14, output: 2.19, source: "https://api-docs.deepseek.com/quick_start/pricing", date: "2026-11-27" },
  { provider: "mistral", model: "mistral-large-latest", input: 2, output: 6, source: "https://mistral.ai/pricing#api-pricing", date: "2026-11-27" },
  { provider: "mistral", model: "mistral-small-latest", input: 0.1, output: 0.3, source: "https://mistral.ai/pricing#api-pricing", date: "2026-11-27" },
  { provider: "mistral", model: "mistral-embed", input: 0.1, output: 0, source: "https://mistral.ai/pricing#api-pricing", date: "2026-11-27" },
  { provider: "xai", model: "grok-3", input: 3, cachedInput: 0.75, output: 15, source: "https://docs.x.ai/docs/models", date: "2026-11-27" },
  { provider: "xai", model: "grok-3-mini", input: 0.3, cachedInput: 0.075, output: 0.5, source: "https://docs.x.ai/docs/models", date: "2026-11-27" },
  { provider: "together", model: "meta-llama/Llama-3.3-70B-Instruct-Turbo", input: 0.88, output: 0.88, source: "https://www.together.ai/pricing", date: "2026-11-27" },
  { provider: "fireworks", model: "accounts/fireworks/models/llama-v3p3-70b-instruct", input: 0.9, output: 0.9, source: "https://fireworks.ai/pricing", date: "2026-11-27" },
  { provider: "cerebras", model: "llama3.1-8b", input: 0.1, output: 0.1, source: "https://www.cerebras.ai/pricing", date: "2026-11-27" },
  { provider: "perplexity", model: "sonar", input: 1, output: 1, source: "https://docs.perplexity.ai/getting-started/pricing", date: "2026-11-27" },
  { provider: "perplexity", model: "sonar-pro", input: 3, output: 15, source: "https://docs.perplexity.ai/getting-started/pricing", date: "2026-11-27" },
];

const byKey = new Map(PRICE_TABLE.map((row) => [`${row.provider}/${row.model}`, row]));

/**
 * Fine-tuned models, by provider type and base model: `input`/`output` price calls to a tuned model, `training`
 * the trained tokens of the job that made it. OpenAI bills tuned models above their base; Vertex AI bills a tuned
 * Gemini at its base model's price. Azure OpenAI (per deployment type and region, plus an hourly hosting fee) and
 * Bedrock (Provisioned Throughput, or on-demand deployments) are not in the table: their tuned models are
 * unpriced unless the workspace sets `pricing` for them.
 */
const VERTEX_TUNING = "https://cloud.google.com/vertex-ai/generative-ai/pricing#tuning";
export const FINE_TUNED_PRICE_TABLE: readonly PriceRow[] = [
  { provider: "openai", model: "gpt-4.1-2025-04-14", training: 25, input: 3, cachedInput: 0.75, output: 12, source: OPENAI, date: "2026-12-01" },
  { provider: "openai", model: "gpt-4.1-mini-2025-04-14", training: 5, input: 0.8, cachedInput: 0.2, output: 3.2, source: OPENAI, date: "2026-12-01" },
  { provider: "openai", model: "gpt-4.1-nano-2025-04-14", training: 1.5, input: 0.2, cachedInput: 0.05, output: 0.8, source: OPENAI, date: "2026-12-01" },
  { provider: "openai", model: "gpt-4o-2024-08-06", training: 25, input: 3.75, cachedInput: 1.875, output: 15, source: OPENAI, date: "2026-12-01" },
  { provider: "openai", model: "gpt-4o-mini-2024-07-18", training: 3, input: 0.3, cachedInput: 0.15, output: 1.2, source: OPENAI, date: "2026-12-01" },
  { provider: "openai", model: "gpt-3.5-turbo-0125", training: 8, input: 3, output: 6, source: OPENAI, date: "2026-12-01" },
  { provider: "openai", model: "davinci-002", training: 6, input: 12, output: 12, source: OPENAI, date: "2026-12-01" },
  { provider: "openai", model: "babbage-002", training: 0.4, input: 1.6, output: 1.6, source: OPENAI, date: "2026-12-01" },
  { provider: "vertex", model: "gemini-2.5-pro", training: 25, input: 1.25, cachedInput: 0.125, output: 10, source: VERTEX_TUNING, date: "2026-12-01" },
  { provider: "vertex", model: "gemini-2.5-flash", training: 5, input: 0.3, cachedInput: 0.03, output: 2.5, source: VERTEX_TUNING, date: "2026-12-01" },
  { provider: "vertex", model: "gemini-2.5-flash-lite", training: 1.5, input: 0.1, cachedInput: 0.01, output: 0.4, source: VERTEX_TUNING, date: "2026-12-01" },
  { provider: "vertex", model: "gemini-2.0-flash-001", training: 3, input: 0.15, cachedInput: 0.0375, output: 0.6, source: VERTEX_TUNING, date: "2026-12-01" },
  { provider: "vertex", model: "gemini-2.0-flash-lite-001", training: 1, input: 0.075, output: 0.3, source: VERTEX_TUNING, date: "2026-12-01" },
];

const fineTunedByKey = new Map(FINE_TUNED_PRICE_TABLE.map((row) => [`${row.provider}/${row.model}`, row]));

/** The fine-tuned price row of a base model (dated snapshots fall back to their base row, as in priceOf). */
export function fineTunedPriceOf(providerType: string, baseModel: string): Price | null {
  return fineTunedByKey.get(`${providerType}/${baseModel}`) ?? fineTunedByKey.get(`${providerType}/${baseModel.replace(/-(?:\d{4}-\d{2}-\d{2}|\d{8})$/, "")}`) ?? null;
}

/** The base model a tuned model's id names, where the id says it: OpenAI's `ft:<base>:…`, Azure's `<base>.ft-…`. */
export function tunedBaseOf(providerType: string, model: string): string | undefined {
  if (providerType === "openai") return /^ft:([^:]+):/.exec(model)?.[1];
  if (providerType === "azure") return /^(.+?)\.ft-/.exec(model)?.[1];
  return undefined;
}

/**
 * The price of a model: a workspace override (keyed `providerName/model`) first, then the table by provider
 * type (a tuned model's id that names its base: the fine-tuned table); dated model snapshots (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`, Vertex AI's
 * `claude-sonnet-4-5@20250929`) fall back to their base row.
 */
export function priceOf(providerType: string, model: string, overrides?: Record<string, Price>, providerName?: string): Price | null {
  const override = overrides?.[`${providerName ?? providerType}/${model}`];
  if (override) return override;
  const tunedBase = tunedBaseOf(providerType, model);
  if (tunedBase !== undefined) return fineTunedPriceOf(providerType, tunedBase);
  const exact = byKey.get(`${providerType}/${model}`);
  if (exact) return exact;
  const base = model.replace(/[-@](?:\d{4}-\d{2}-\d{2}|\d{8})$/, "");
  const dated = byKey.get(`${providerType}/${base}`);
  if (dated) return dated;
  // Bedrock cross-region inference profiles cost what the model costs in the source region.
  const profile = /^(?:us|eu|apac|jp|au|global)\.(.+)$/.exec(model);
  return profile && providerType === "bedrock" ? (byKey.get(`bedrock/${profile[1]}`) ?? null) : null;
}

/**
 * What pricing reads of a provider's config (a `ProviderConfig` is one). The config schema is assembled from this
 * module's PriceSchema, so pricing names the shape it needs instead of importing the config's types.
 */
export type PricedProvider = { type: string; preset?: string | undefined };
/** What pricing reads of a workspace's config (a `GatewayConfig` is one). */
export type PricedWorkspace = { providers: Record<string, PricedProvider>; pricing?: Record<string, Price> | undefined };

/**
 * The provider key of a config in the price table: its type, except for the OpenAI-compatible family, whose
 * models are priced per preset (`groq/llama-3.3-70b-versatile`); a compatible server without a preset is unpriced
 * unless the workspace overrides it.
 */
export function priceKeyOf(config: PricedProvider): string {
  return config.type === "openai-compatible" ? (config.preset ?? "openai-compatible") : config.type;
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

/**
 * The price of one provider's model in a workspace: its `pricing` override first, then the table row for the
 * provider's type (or, for the OpenAI-compatible family, its preset). Usage cost, budget reservations and the
 * `cost` routing strategy all price through here, so they always agree.
 */
export function priceOfTarget(config: PricedWorkspace | undefined, providerName: string, model: string): Price | null {
  const provider = config?.providers[providerName];
  return priceOf(provider ? priceKeyOf(provider) : providerName, model, config?.pricing, providerName);
}

/**
 * Batch prices: each provider's batch API bills a fixed share of its interactive price (read 2026-12-01): OpenAI
 * Batch API 50% (https://platform.openai.com/docs/guides/batch), Azure OpenAI Global Batch 50%
 * (https://learn.microsoft.com/azure/ai-services/openai/how-to/batch), Anthropic Message Batches 50%
 * (https://docs.anthropic.com/en/docs/build-with-claude/batch-processing), Gemini Batch API 50%
 * (https://ai.google.dev/gemini-api/docs/batch-api), Vertex AI batch prediction 50%
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-gemini). A provider type
 * missing here has no batch price: its lines are priced as interactive requests.
 */
export const BATCH_PRICE_SHARE: Readonly<Record<string, number>> = { openai: 0.5, azure: 0.5, anthropic: 0.5, gemini: 0.5, vertex: 0.5 };

const scaled = (price: Price, share: number): Price => ({
  input: price.input * share,
  output: price.output * share,
  ...(price.cachedInput !== undefined ? { cachedInput: price.cachedInput * share } : {}),
  ...(price.cacheWrite !== undefined ? { cacheWrite: price.cacheWrite * share } : {}),
  ...(price.reasoning !== undefined ? { reasoning: price.reasoning * share } : {}),
});

/** The price of one line of a provider batch: the target's price (overrides included) at its batch share. */
export function batchPriceOfTarget(config: PricedWorkspace | undefined, providerName: string, model: string): Price | null {
  const price = priceOfTarget(config, providerName, model);
  const provider = config?.providers[providerName];
  const share = provider ? BATCH_PRICE_SHARE[provider.type] : undefined;
  return price && share !== undefined ? scaled(price, share) : price;
}

/**
 * USD per 1M trained tokens of a fine-tuning job on `baseModel`: the workspace's `pricing` override for
 * `<provider>/<base model>` (its `training`), else the fine-tuned table; null (unpriced) when neither has one.
 */
export function trainingPriceOf(config: PricedWorkspace | undefined, providerName: string, baseModel: string): number | null {
  const override = config?.pricing?.[`${providerName}/${baseModel}`]?.training;
  if (override !== undefined) return override;
  const provider = config?.providers[providerName];
  return fineTunedPriceOf(provider ? priceKeyOf(provider) : providerName, baseModel)?.training ?? null;
}
