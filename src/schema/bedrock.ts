import * as z from "zod";

/**
 * Amazon Bedrock Runtime response shapes: Converse, ConverseStream event payloads, Titan text embeddings
 * (InvokeModel) and error bodies. Unknown fields are tolerated; unknown content blocks are skipped.
 */

export const BedrockUsageSchema = z.object({
  inputTokens: z.number().int().nullish(),
  outputTokens: z.number().int().nullish(),
  cacheReadInputTokens: z.number().int().nullish(),
  cacheWriteInputTokens: z.number().int().nullish(),
});

const ToolUseSchema = z.object({ toolUseId: z.string(), name: z.string(), input: z.unknown() });

/** Claude's thinking on Bedrock: signed text, or redacted (encrypted) content. */
const ReasoningContentSchema = z.object({
  reasoningText: z.object({ text: z.string(), signature: z.string().nullish() }).nullish(),
  redactedContent: z.string().nullish(),
});

export const BedrockConverseResponseSchema = z.object({
  output: z.object({
    message: z.object({
      role: z.string(),
      content: z.array(z.object({ text: z.string().optional(), toolUse: ToolUseSchema.optional(), reasoningContent: ReasoningContentSchema.optional() })),
    }),
  }),
  stopReason: z.string(),
  usage: BedrockUsageSchema.nullish(),
  additionalModelResponseFields: z.object({ stop_sequence: z.string().nullish() }).nullish(),
});

/** ConverseStream event payloads, keyed by the frame's `:event-type` header. */
export const BedrockStreamEventSchemas = {
  messageStart: z.object({ role: z.string() }),
  contentBlockStart: z.object({
    contentBlockIndex: z.number().int(),
    start: z.object({ toolUse: z.object({ toolUseId: z.string(), name: z.string() }).optional() }).nullish(),
  }),
  contentBlockDelta: z.object({
    contentBlockIndex: z.number().int(),
    delta: z.object({
      text: z.string().optional(),
      toolUse: z.object({ input: z.string() }).optional(),
      reasoningContent: z.object({ text: z.string().nullish(), signature: z.string().nullish(), redactedContent: z.string().nullish() }).optional(),
    }),
  }),
  contentBlockStop: z.object({ contentBlockIndex: z.number().int() }),
  messageStop: z.object({ stopReason: z.string(), additionalModelResponseFields: z.object({ stop_sequence: z.string().nullish() }).nullish() }),
  metadata: z.object({ usage: BedrockUsageSchema.nullish() }),
} as const;

export const TitanEmbeddingResponseSchema = z.object({
  embedding: z.array(z.number()),
  inputTextTokenCount: z.number().int(),
});

/** Bedrock's error body: `{ "message": ... }` (some services capitalise it). */
export const BedrockErrorBodySchema = z.union([z.object({ message: z.string() }), z.object({ Message: z.string() }).transform((b) => ({ message: b.Message }))]);
