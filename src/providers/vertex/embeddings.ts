import * as z from "zod";
import type { EmbeddingsRequest, EmbeddingsResult } from "../../schema/internal";
import { invalidUpstream } from "../http";

/** Google's text-embedding models on Vertex AI, through `:predict`. */

const PredictEmbeddingsSchema = z.object({
  predictions: z.array(z.object({ embeddings: z.object({ values: z.array(z.number()), statistics: z.object({ token_count: z.number().optional() }).loose().optional() }) })),
});

export const predictEmbeddingsBody = (request: EmbeddingsRequest): Record<string, unknown> => ({
  instances: request.input.map((content) => ({ content })),
  ...(request.dimensions ? { parameters: { outputDimensionality: request.dimensions } } : {}),
});

export function parsePredictEmbeddings(body: unknown, providerName: string, model: string): EmbeddingsResult {
  const parsed = PredictEmbeddingsSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(providerName, "unexpected embeddings shape");
  const predictions = parsed.data.predictions;
  // Counted only when every prediction carries its statistics; otherwise the gateway settles on its estimate.
  const counted = predictions.every((p) => p.embeddings.statistics?.token_count !== undefined);
  return {
    model,
    vectors: predictions.map((p) => p.embeddings.values),
    usage: counted ? { promptTokens: predictions.reduce((sum, p) => sum + (p.embeddings.statistics?.token_count ?? 0), 0) } : null,
  };
}
