import { GeminiBatchEmbedResponseSchema } from "../../schema/gemini";
import type { EmbeddingsRequest, EmbeddingsResult } from "../../schema/internal";
import { invalidUpstream } from "../http";

/** batchEmbedContents: one request per input, in one call. */
export function geminiEmbeddingsBody(request: EmbeddingsRequest, model: string): Record<string, unknown> {
  return {
    requests: request.input.map((text) => ({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      ...(request.dimensions ? { outputDimensionality: request.dimensions } : {}),
    })),
  };
}

export function parseGeminiEmbeddingsResponse(body: unknown, providerName: string, model: string): EmbeddingsResult {
  const parsed = GeminiBatchEmbedResponseSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(providerName, "unexpected embeddings shape");
  // batchEmbedContents reports no token counts: the gateway settles on its own estimate.
  return { model, vectors: parsed.data.embeddings.map((e) => e.values), usage: null };
}
