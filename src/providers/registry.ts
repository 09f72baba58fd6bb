import type { ProviderConfig, ProviderType } from "../config/schema";
import type { Supports } from "../schema/capabilities";
import { anthropicAdapter } from "./anthropic";
import { azureAdapter } from "./azure";
import { bedrockAdapter } from "./bedrock";
import { geminiAdapter } from "./gemini";
import { openAIAdapter } from "./openai";
import { openAICompatibleAdapter } from "./openai-compatible";
import type { ProviderAdapter } from "./types";
import { vertexAdapter } from "./vertex";

type AdapterRegistry = { [T in ProviderType]: ProviderAdapter<Extract<ProviderConfig, { type: T }>> };

/** Every provider type the config schema accepts has exactly one adapter here. */
const adapters: AdapterRegistry = {
  openai: openAIAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  vertex: vertexAdapter,
  bedrock: bedrockAdapter,
  azure: azureAdapter,
  "openai-compatible": openAICompatibleAdapter,
};

export function adapterFor<C extends ProviderConfig>(config: C): ProviderAdapter<C> {
  return adapters[config.type as C["type"]] as unknown as ProviderAdapter<C>;
}

/** What a provider with this config can serve (its adapter's answer; compatible servers narrow it by preset and config). */
export const supportsOf = (config: ProviderConfig): Supports => adapterFor(config).supports(config);
