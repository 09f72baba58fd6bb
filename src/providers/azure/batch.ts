import type { ProviderConfig } from "../../config/schema";
import { openAIStyleBatchApi } from "../openai/batch";

/**
 * Azure OpenAI's Global Batch: OpenAI's Files and Batch APIs under the resource's /openai path. With the
 * deployments API the api-version is a query parameter, lines name `/chat/completions` and the body's `model` is
 * the (global batch) deployment; with the v1 API the paths and lines are OpenAI's.
 */

type AzureConfig = Extract<ProviderConfig, { type: "azure" }>;

export const azureBatchApi = openAIStyleBatchApi<AzureConfig>({
  url: (target, path) =>
    target.config.apiStyle === "v1" ? `${target.config.baseURL}/openai/v1${path}` : `${target.config.baseURL}/openai${path}?api-version=${encodeURIComponent(target.config.apiVersion)}`,
  lineURL: (target, kind) => `${target.config.apiStyle === "v1" ? "/v1" : ""}/${kind === "chat" ? "chat/completions" : "embeddings"}`,
  headers: async (target) => ({ "api-key": await target.secret(target.config.apiKey) }),
});
