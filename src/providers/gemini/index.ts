import type { ProviderConfig } from "../../config/schema";
import { jsonRequest } from "../http";
import type { ProviderAdapter } from "../types";
import { chatRequestToGemini, modelPath, parseGeminiChatResponse } from "./chat";
import { geminiEmbeddingsBody, parseGeminiEmbeddingsResponse } from "./embeddings";
import { parseGeminiError } from "./errors";
import { parseGeminiChatStream } from "./stream";
import { SUPPORTS_ALL } from "../../schema/capabilities";

type GeminiConfig = Extract<ProviderConfig, { type: "gemini" }>;

const modelsURL = (config: GeminiConfig) => `${config.baseURL}/${config.apiVersion}/models`;

/** The Gemini API (generativelanguage.googleapis.com): the Gemini translation with an API key. */
export const geminiAdapter: ProviderAdapter<GeminiConfig> = {
  type: "gemini",
  supports: () => SUPPORTS_ALL,
  async buildChatRequest(request, target) {
    const method = request.stream ? "streamGenerateContent?alt=sse" : "generateContent";
    // The key goes in a header, never the URL, so it cannot end up in logged URLs.
    const headers = { "x-goog-api-key": await target.secret(target.config.apiKey) };
    return jsonRequest(`${modelsURL(target.config)}/${modelPath(target.model)}:${method}`, headers, chatRequestToGemini(request, target.model));
  },
  parseChatResponse: (body, target) => parseGeminiChatResponse(body, target.providerName, target.model),
  parseChatStream: (body, target) => parseGeminiChatStream(body, target.providerName, target.model),
  async buildEmbeddingsRequest(request, target) {
    const headers = { "x-goog-api-key": await target.secret(target.config.apiKey) };
    return jsonRequest(`${modelsURL(target.config)}/${modelPath(target.model)}:batchEmbedContents`, headers, geminiEmbeddingsBody(request, target.model));
  },
  parseEmbeddingsResponse: (body, target) => parseGeminiEmbeddingsResponse(body, target.providerName, target.model),
  parseError: parseGeminiError,
};
