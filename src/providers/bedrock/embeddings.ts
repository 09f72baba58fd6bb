import { TitanEmbeddingResponseSchema } from "../../schema/bedrock";
import type { EmbeddingsResult } from "../../schema/internal";
import { invalidUpstream } from "../http";
import type { UpstreamTarget } from "../types";

/** Titan Text Embeddings through InvokeModel, one input per call; the bodies arrive as an array, in order. */
export function parseTitanEmbeddings(body: unknown, target: UpstreamTarget): EmbeddingsResult {
  const bodies = Array.isArray(body) ? body : [body];
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const item of bodies) {
    const parsed = TitanEmbeddingResponseSchema.safeParse(item);
    if (!parsed.success) throw invalidUpstream(target.providerName, "unexpected embeddings shape");
    vectors.push(parsed.data.embedding);
    promptTokens += parsed.data.inputTextTokenCount;
  }
  return { model: target.model, vectors, usage: { promptTokens } };
}
