import type { ProviderConfig } from "../../config/schema";
import { jsonRequest } from "../http";
import { chatRequestToOpenAI, parseOpenAIChatResponse } from "../openai/chat";
import { embeddingsRequestToOpenAI, parseOpenAIEmbeddingsResponse } from "../openai/embeddings";
import { parseOpenAIError } from "../openai/errors";
import { parseOpenAIChatStream } from "../openai/stream";
import type { ProviderAdapter, UpstreamTarget } from "../types";
import { SUPPORTS_ALL } from "../../schema/capabilities";

/**
 * Azure OpenAI: OpenAI's wire format at Azure's URLs with an `api-key` header. With `apiStyle: "deployments"`
 * the model names a deployment and the api-version is a query parameter; with `"v1"` the GA /openai/v1 API takes
 * the model in the body, as OpenAI does.
 */

type AzureConfig = Extract<ProviderConfig, { type: "azure" }>;

function urlFor(target: UpstreamTarget<AzureConfig>, operation: "chat/completions" | "embeddings"): string {
  const { config } = target;
  if (config.apiStyle === "v1") return `${config.baseURL}/openai/v1/${operation}`;
  return `${config.baseURL}/openai/deployments/${encodeURIComponent(target.model)}/${operation}?api-version=${encodeURIComponent(config.apiVersion)}`;
}

/** The deployments API takes the model from the URL; the body's `model` is left out there. */
function withoutModelForDeployments(body: Record<string, unknown>, config: AzureConfig): Record<string, unknown> {
  if (config.apiStyle === "deployments") delete body.model;
  return body;
}

const headersOf = async (target: UpstreamTarget<AzureConfig>) => ({ "api-key": await target.secret(target.config.apiKey) });

export const azureAdapter: ProviderAdapter<AzureConfig> = {
  type: "azure",
  supports: () => SUPPORTS_ALL,
  async buildChatRequest(request, target) {
    const body = withoutModelForDeployments(chatRequestToOpenAI(request, target.model), target.config);
    return jsonRequest(urlFor(target, "chat/completions"), await headersOf(target), body);
  },
  parseChatResponse: (body, target) => parseOpenAIChatResponse(body, target.providerName),
  parseChatStream: (body, target) => parseOpenAIChatStream(body, target.providerName),
  async buildEmbeddingsRequest(request, target) {
    return jsonRequest(urlFor(target, "embeddings"), await headersOf(target), withoutModelForDeployments(embeddingsRequestToOpenAI(request, target.model), target.config));
  },
  parseEmbeddingsResponse: (body, target) => parseOpenAIEmbeddingsResponse(body, target.providerName),
  parseError: parseOpenAIError,
};
