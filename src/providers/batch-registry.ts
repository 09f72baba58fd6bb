import type { ProviderConfig, ProviderType } from "../config/schema";
import { anthropicBatchApi } from "./anthropic/batch";
import { azureBatchApi } from "./azure/batch";
import { geminiBatchApi } from "./gemini/batch";
import type { ProviderBatchApi } from "./batch";
import { openAIBatchApi } from "./openai/batch";
import { vertexBatchApi } from "./vertex/batch";

type BatchRegistry = { [T in ProviderType]?: ProviderBatchApi<Extract<ProviderConfig, { type: T }>> };

/** Providers with a batch API the gateway relays to; the others run batches in gateway mode only. */
const batchApis: BatchRegistry = {
  openai: openAIBatchApi,
  azure: azureBatchApi,
  anthropic: anthropicBatchApi,
  gemini: geminiBatchApi,
  vertex: vertexBatchApi,
};

export function batchApiFor<C extends ProviderConfig>(config: C): ProviderBatchApi<C> | undefined {
  return batchApis[config.type as C["type"]] as ProviderBatchApi<C> | undefined;
}
