import * as z from "zod";

/**
 * What the Gemini API (and Vertex AI's Gemini models) return: GenerateContentResponse (whole or as SSE chunks),
 * BatchEmbedContentsResponse, and Google's error body. Loose on purpose: Google adds fields often.
 */

const PartSchema = z
  .object({
    text: z.string().optional(),
    /** A thought summary: reasoning, never part of the answer's text. */
    thought: z.boolean().optional(),
    functionCall: z.object({ id: z.string().optional(), name: z.string(), args: z.record(z.string(), z.unknown()).nullish() }).optional(),
    /** Opaque reasoning state thinking models attach to a function call; it must come back with that call. */
    thoughtSignature: z.string().optional(),
  })
  .loose();

export const GeminiUsageSchema = z
  .object({
    promptTokenCount: z.number().int().optional(),
    candidatesTokenCount: z.number().int().optional(),
    cachedContentTokenCount: z.number().int().optional(),
    thoughtsTokenCount: z.number().int().optional(),
    toolUsePromptTokenCount: z.number().int().optional(),
    totalTokenCount: z.number().int().optional(),
  })
  .loose();

export const GeminiResponseSchema = z
  .object({
    candidates: z
      .array(
        z
          .object({
            content: z.object({ role: z.string().optional(), parts: z.array(PartSchema).optional() }).loose().optional(),
            finishReason: z.string().optional(),
            index: z.number().int().optional(),
          })
          .loose(),
      )
      .optional(),
    promptFeedback: z.object({ blockReason: z.string().optional(), blockReasonMessage: z.string().optional() }).loose().optional(),
    usageMetadata: GeminiUsageSchema.optional(),
    modelVersion: z.string().optional(),
    responseId: z.string().optional(),
  })
  .loose();
export type GeminiResponse = z.infer<typeof GeminiResponseSchema>;

export const GeminiBatchEmbedResponseSchema = z.object({
  embeddings: z.array(z.object({ values: z.array(z.number()) })),
});

export const GoogleErrorBodySchema = z.object({
  error: z.object({ code: z.number().int().optional(), message: z.string().optional(), status: z.string().optional() }).loose(),
});
