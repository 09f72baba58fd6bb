import type { ProviderConfig } from "../../config/schema";
import { AZURE_TUNABLE, givenHyperparameters, methodObject, openAIStyleTuningApi } from "../openai/fine-tuning";
import { deployTunedModel } from "./management";

/**
 * Azure OpenAI fine-tuning: OpenAI's fine-tuning API under the resource's /openai path (the deployments style
 * takes the api-version as a query parameter; 2024-10-21 is the first GA version with fine-tuning), authenticated
 * with the api-key. A tuned model is served through a deployment: with `tunedDeployments` the gateway creates it
 * (src/providers/azure/management.ts), named after the model.
 */

type AzureConfig = Extract<ProviderConfig, { type: "azure" }>;

const api = openAIStyleTuningApi<AzureConfig>({
  url(target, path, query) {
    const params = new URLSearchParams(query);
    if (target.config.apiStyle === "v1") return `${target.config.baseURL}/openai/v1${path}${params.size ? `?${params.toString()}` : ""}`;
    params.set("api-version", target.config.apiVersion);
    return `${target.config.baseURL}/openai${path}?${params.toString()}`;
  },
  headers: async (target) => ({ "api-key": await target.secret(target.config.apiKey) }),
  tunable: AZURE_TUNABLE,
  // Azure names tuned models `<base>.ft-<id>` (and `-<suffix>` when one was asked for).
  tunedModelPattern: /\.ft-[0-9a-f]/,
  // The GA API takes supervised hyperparameters at the top level; preference tuning needs `method` (a preview api-version).
  methodFields: (request) => (request.method === "dpo" ? { method: methodObject(request) } : { hyperparameters: givenHyperparameters(request) }),
  metadata: false,
});

export const azureTuningApi = { ...api, serve: deployTunedModel };
