import type { ProviderConfig, ProviderType } from "../config/schema";
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
