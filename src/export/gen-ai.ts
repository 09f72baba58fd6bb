import type { GatewayConfig } from "../config/schema";

/**
 * Provider names in the OpenTelemetry GenAI semantic conventions: `gen_ai.system` (the attribute the conventions
 * used until v1.36) and `gen_ai.provider.name` (its successor). Both are sent; they differ only for Azure and xAI.
 * Providers the conventions do not list go by their preset name.
 */
const WELL_KNOWN: Record<string, { system: string; providerName: string }> = {
  openai: { system: "openai", providerName: "openai" },
  anthropic: { system: "anthropic", providerName: "anthropic" },
  gemini: { system: "gcp.gemini", providerName: "gcp.gemini" },
  vertex: { system: "gcp.vertex_ai", providerName: "gcp.vertex_ai" },
  bedrock: { system: "aws.bedrock", providerName: "aws.bedrock" },
  azure: { system: "az.ai.openai", providerName: "azure.ai.openai" },
  groq: { system: "groq", providerName: "groq" },
  mistral: { system: "mistral_ai", providerName: "mistral_ai" },
  deepseek: { system: "deepseek", providerName: "deepseek" },
  perplexity: { system: "perplexity", providerName: "perplexity" },
  xai: { system: "xai", providerName: "x_ai" },
};

export type GenAISystem = { system: string; providerName: string };

/** The GenAI provider name of a provider of the workspace's config (by its name there); undefined if unknown. */
export function genAISystemOf(config: GatewayConfig | null, provider: string | undefined): GenAISystem | undefined {
  if (!provider) return undefined;
  const settings = config?.providers[provider];
  if (!settings) return undefined;
  const kind = settings.type === "openai-compatible" ? (settings.preset ?? "openai_compatible") : settings.type;
  return WELL_KNOWN[kind] ?? { system: kind, providerName: kind };
}
