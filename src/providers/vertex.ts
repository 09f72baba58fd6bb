import * as z from "zod";
import type { ProviderConfig } from "../config/schema";
import { GatewayError } from "../lib/errors";
import { googleAccessToken, parseServiceAccountKey } from "../lib/google-auth";
import { chatRequestToAnthropic, parseAnthropicChatResponse, parseAnthropicChatStream, parseAnthropicError } from "./anthropic";
import { chatRequestToGemini, modelPath, parseGeminiChatResponse, parseGeminiChatStream, parseGoogleError } from "./gemini";
import { jsonRequest } from "./openai";
import type { ProviderAdapter, UpstreamTarget } from "./types";

/**
 * Vertex AI: Google's models through the Gemini translation, Anthropic's (`claude-*`) through the Anthropic
 * Messages translation, and Google's text-embedding models through `:predict`; all behind a service account's
 * OAuth access token.
 */

type VertexConfig = Extract<ProviderConfig, { type: "vertex" }>;

/** The Messages API version Vertex AI's Claude endpoints accept, sent in the body instead of a header. */
export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";

const isClaude = (model: string) => model.startsWith("claude-");

function originOf(config: VertexConfig): string {
  if (config.baseURL) return config.baseURL.replace(/\/+$/, "");
  return config.location === "global" ? "https://aiplatform.googleapis.com" : `https://${config.location}-aiplatform.googleapis.com`;
}

const modelURL = (target: UpstreamTarget<VertexConfig>, publisher: "google" | "anthropic", method: string) =>
  `${originOf(target.config)}/v1/projects/${encodeURIComponent(target.config.project)}/locations/${encodeURIComponent(target.config.location)}/publishers/${publisher}/models/${modelPath(target.model)}:${method}`;

async function authorization(target: UpstreamTarget<VertexConfig>): Promise<Record<string, string>> {
  const key = parseServiceAccountKey(await target.secret(target.config.serviceAccount), target.providerName);
  const token = await googleAccessToken(key, { providerName: target.providerName, tokenURL: target.config.tokenURL, fetch: target.fetch });
  return { authorization: `Bearer ${token}` };
}

const PredictEmbeddingsSchema = z.object({
  predictions: z.array(z.object({ embeddings: z.object({ values: z.array(z.number()), statistics: z.object({ token_count: z.number().optional() }).loose().optional() }) })),
});

export const vertexAdapter: ProviderAdapter<VertexConfig> = {
  type: "vertex",
  supports: { chat: true, stream: true, tools: true, embeddings: true, vision: true },
  async buildChatRequest(request, target) {
    const headers = await authorization(target);
    if (isClaude(target.model)) {
      const body = { ...chatRequestToAnthropic(request, undefined), anthropic_version: VERTEX_ANTHROPIC_VERSION };
      return jsonRequest(modelURL(target, "anthropic", request.stream ? "streamRawPredict" : "rawPredict"), headers, body);
    }
    return jsonRequest(modelURL(target, "google", request.stream ? "streamGenerateContent?alt=sse" : "generateContent"), headers, chatRequestToGemini(request, target.model));
  },
  parseChatResponse: (body, target) =>
    isClaude(target.model) ? parseAnthropicChatResponse(body, target.providerName) : parseGeminiChatResponse(body, target.providerName, target.model),
  parseChatStream: (body, target) =>
    isClaude(target.model) ? parseAnthropicChatStream(body, target.providerName) : parseGeminiChatStream(body, target.providerName, target.model),
  async buildEmbeddingsRequest(request, target) {
    const body = { instances: request.input.map((content) => ({ content })), ...(request.dimensions ? { parameters: { outputDimensionality: request.dimensions } } : {}) };
    return jsonRequest(modelURL(target, "google", "predict"), await authorization(target), body);
  },
  parseEmbeddingsResponse(body, target) {
    const parsed = PredictEmbeddingsSchema.safeParse(body);
    if (!parsed.success) {
      throw new GatewayError({ status: 502, type: "upstream_error", code: "invalid_upstream_response", provider: target.providerName, message: `${target.providerName}: invalid response from upstream (unexpected embeddings shape)` });
    }
    const predictions = parsed.data.predictions;
    // Counted only when every prediction carries its statistics; otherwise the gateway settles on its estimate.
    const counted = predictions.every((p) => p.embeddings.statistics?.token_count !== undefined);
    return {
      model: target.model,
      vectors: predictions.map((p) => p.embeddings.values),
      usage: counted ? { promptTokens: predictions.reduce((sum, p) => sum + (p.embeddings.statistics?.token_count ?? 0), 0) } : null,
    };
  },
  // Vertex answers in Google's error shape; errors from Claude's own service come through in Anthropic's.
  parseError: (status, bodyText) => parseGoogleError(status, bodyText) ?? parseAnthropicError(status, bodyText),
};
