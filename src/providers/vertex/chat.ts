import type { ProviderConfig } from "../../config/schema";
import type { ChatRequest, ChatResult, StreamEvent } from "../../schema/internal";
import { chatRequestToAnthropic, parseAnthropicChatResponse } from "../anthropic/chat";
import { parseAnthropicChatStream } from "../anthropic/stream";
import { chatRequestToGemini, modelPath, parseGeminiChatResponse } from "../gemini/chat";
import { parseGeminiChatStream } from "../gemini/stream";
import { jsonRequest } from "../http";
import type { UpstreamTarget } from "../types";

/**
 * Vertex AI chat: Google's models through the Gemini translation, Anthropic's (`claude-*`) through the Anthropic
 * Messages translation, each at its publisher's endpoint.
 */

export type VertexConfig = Extract<ProviderConfig, { type: "vertex" }>;

/** The Messages API version Vertex AI's Claude endpoints accept, sent in the body instead of a header. */
export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";

const isClaude = (model: string) => model.startsWith("claude-");

/** A tuned Gemini model's endpoint (`projects/…/locations/…/endpoints/…`, what a tuning job makes), called as it is. */
export const TUNED_ENDPOINT = /^projects\/[A-Za-z0-9_-]+\/locations\/[a-z0-9-]+\/endpoints\/[A-Za-z0-9_-]+$/;

export function originOf(config: VertexConfig): string {
  if (config.baseURL) return config.baseURL;
  return config.location === "global" ? "https://aiplatform.googleapis.com" : `https://${config.location}-aiplatform.googleapis.com`;
}

export const modelURL = (target: UpstreamTarget<VertexConfig>, publisher: "google" | "anthropic", method: string) =>
  TUNED_ENDPOINT.test(target.model)
    ? `${originOf(target.config)}/v1/${target.model}:${method}`
    : `${originOf(target.config)}/v1/projects/${encodeURIComponent(target.config.project)}/locations/${encodeURIComponent(target.config.location)}/publishers/${publisher}/models/${modelPath(target.model)}:${method}`;

export function vertexChatRequest(request: ChatRequest, target: UpstreamTarget<VertexConfig>, headers: Record<string, string>): Request {
  if (isClaude(target.model)) {
    const body = { ...chatRequestToAnthropic(request, undefined), anthropic_version: VERTEX_ANTHROPIC_VERSION };
    return jsonRequest(modelURL(target, "anthropic", request.stream ? "streamRawPredict" : "rawPredict"), headers, body);
  }
  return jsonRequest(modelURL(target, "google", request.stream ? "streamGenerateContent?alt=sse" : "generateContent"), headers, chatRequestToGemini(request, target.model));
}

export const parseVertexChatResponse = (body: unknown, target: UpstreamTarget<VertexConfig>): ChatResult =>
  isClaude(target.model) ? parseAnthropicChatResponse(body, target.providerName) : parseGeminiChatResponse(body, target.providerName, target.model);

export const parseVertexChatStream = (body: ReadableStream<Uint8Array>, target: UpstreamTarget<VertexConfig>): ReadableStream<StreamEvent> =>
  isClaude(target.model) ? parseAnthropicChatStream(body, target.providerName) : parseGeminiChatStream(body, target.providerName, target.model);
