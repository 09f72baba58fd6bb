import type { ProviderConfig } from "../../config/schema";
import { jsonRequest } from "../http";
import type { ProviderAdapter, UpstreamTarget } from "../types";
import { chatRequestToOpenAI, parseOpenAIChatResponse } from "./chat";
import { embeddingsRequestToOpenAI, parseOpenAIEmbeddingsResponse } from "./embeddings";
import { parseOpenAIError } from "./errors";
import { parseOpenAIChatStream } from "./stream";
import { SUPPORTS_ALL } from "../../schema/capabilities";

type OpenAIConfig = Extract<ProviderConfig, { type: "openai" }>;

async function openAIHeaders(target: UpstreamTarget<OpenAIConfig>): Promise<Record<string, string>> {
  const headers: Record<string, string> = { authorization: `Bearer ${await target.secret(target.config.apiKey)}` };
  if (target.config.organization) headers["openai-organization"] = target.config.organization;
  if (target.config.project) headers["openai-project"] = target.config.project;
  return headers;
}

/** OpenAI itself: its translation at its URL with its bearer key (and optional organization / project). */
export const openAIAdapter: ProviderAdapter<OpenAIConfig> = {
  type: "openai",
  supports: () => SUPPORTS_ALL,
  async buildChatRequest(request, target) {
    return jsonRequest(`${target.config.baseURL}/chat/completions`, await openAIHeaders(target), chatRequestToOpenAI(request, target.model));
  },
  parseChatResponse: (body, target) => parseOpenAIChatResponse(body, target.providerName),
  parseChatStream: (body, target) => parseOpenAIChatStream(body, target.providerName),
  async buildEmbeddingsRequest(request, target) {
    return jsonRequest(`${target.config.baseURL}/embeddings`, await openAIHeaders(target), embeddingsRequestToOpenAI(request, target.model));
  },
  parseEmbeddingsResponse: (body, target) => parseOpenAIEmbeddingsResponse(body, target.providerName),
  parseError: parseOpenAIError,
};
