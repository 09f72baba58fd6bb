import { base64Decode } from "../../lib/crypto";
import { OpenAIEmbeddingsResponseSchema } from "../../schema/openai";
import type { EmbeddingsRequest, EmbeddingsResult } from "../../schema/internal";
import { invalidUpstream } from "../http";

/** The /embeddings body; vectors are asked for as floats. `user` is left out for servers that reject it. */
export function embeddingsRequestToOpenAI(request: EmbeddingsRequest, model: string, options: { sendUser: boolean } = { sendUser: true }): Record<string, unknown> {
  return {
    model,
    input: request.input,
    encoding_format: "float",
    ...(request.dimensions ? { dimensions: request.dimensions } : {}),
    ...(options.sendUser && request.user ? { user: request.user } : {}),
  };
}

export function parseOpenAIEmbeddingsResponse(body: unknown, providerName: string): EmbeddingsResult {
  const parsed = OpenAIEmbeddingsResponseSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(providerName, "unexpected embeddings shape");
  const vectors = [...parsed.data.data]
    .sort((a, b) => a.index - b.index)
    .map((item) => (typeof item.embedding === "string" ? Array.from(new Float32Array(base64Decode(item.embedding).buffer)) : item.embedding));
  return { model: parsed.data.model, vectors, usage: { promptTokens: parsed.data.usage?.prompt_tokens ?? 0 } };
}
