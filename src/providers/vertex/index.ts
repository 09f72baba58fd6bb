import { jsonRequest } from "../http";
import type { ProviderAdapter } from "../types";
import { modelURL, parseVertexChatResponse, parseVertexChatStream, vertexChatRequest, type VertexConfig } from "./chat";
import { parsePredictEmbeddings, predictEmbeddingsBody } from "./embeddings";
import { parseVertexError } from "./errors";
import { vertexAuthorization as authorization } from "./auth";
import { SUPPORTS_ALL } from "../../schema/capabilities";

/** Vertex AI: Gemini and Claude models and Google's embeddings, behind a service account's OAuth access token. */
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
