import type { ProviderConfig } from "../../config/schema";
import { jsonRequest } from "../http";
import type { ProviderAdapter } from "../types";
import { chatRequestToAnthropic, parseAnthropicChatResponse } from "./chat";
import { parseAnthropicError } from "./errors";
import { parseAnthropicChatStream } from "./stream";
import { SUPPORTS_ALL } from "../../schema/capabilities";

type AnthropicConfig = Extract<ProviderConfig, { type: "anthropic" }>;

/** Anthropic's Messages API: its translation at its URL, with the x-api-key and anthropic-version headers. No embeddings. */
export const anthropicAdapter: ProviderAdapter<AnthropicConfig> = {
  type: "anthropic",
  supports: () => ({ ...SUPPORTS_ALL, embeddings: false }),
  async buildChatRequest(request, target) {
    const headers = { "x-api-key": await target.secret(target.config.apiKey), "anthropic-version": target.config.version };
    return jsonRequest(`${target.config.baseURL}/v1/messages`, headers, chatRequestToAnthropic(request, target.model));
  },
  parseChatResponse: (body, target) => parseAnthropicChatResponse(body, target.providerName),
  parseChatStream: (body, target) => parseAnthropicChatStream(body, target.providerName),
  parseError: parseAnthropicError,
};
