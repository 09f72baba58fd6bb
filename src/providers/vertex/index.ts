import { jsonRequest } from "../http";
import type { ProviderAdapter, UpstreamTarget } from "../types";
import { modelURL, parseVertexChatResponse, parseVertexChatStream, vertexChatRequest, type VertexConfig } from "./chat";
import { parsePredictEmbeddings, predictEmbeddingsBody } from "./embeddings";
import { parseVertexError } from "./errors";
import { googleAccessToken, parseServiceAccountKey } from "./google-auth";
import { SUPPORTS_ALL } from "../../schema/capabilities";

/** Vertex AI: Gemini and Claude models and Google's embeddings, behind a service account's OAuth access token. */

async function authorization(target: UpstreamTarget<VertexConfig>): Promise<Record<string, string>> {
  const key = parseServiceAccountKey(await target.secret(target.config.serviceAccount), target.providerName);
  const token = await googleAccessToken(key, { providerName: target.providerName, tokenURL: target.config.tokenURL, fetch: target.fetch });
  return { authorization: `Bearer ${token}` };
}

export const vertexAdapter: ProviderAdapter<VertexConfig> = {
  type: "vertex",
  supports: () => SUPPORTS_ALL,
  buildChatRequest: async (request, target) => vertexChatRequest(request, target, await authorization(target)),
  parseChatResponse: parseVertexChatResponse,
  parseChatStream: parseVertexChatStream,
  buildEmbeddingsRequest: async (request, target) => jsonRequest(modelURL(target, "google", "predict"), await authorization(target), predictEmbeddingsBody(request)),
  parseEmbeddingsResponse: (body, target) => parsePredictEmbeddings(body, target.providerName, target.model),
  parseError: parseVertexError,
};
