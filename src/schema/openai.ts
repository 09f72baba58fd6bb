import * as z from "zod";
import { ModelNameSchema } from "./model-name";

/** OpenAI Chat Completions and Embeddings request shapes as clients send them (unknown fields are tolerated). */

const TextContentPart = z.object({ type: z.literal("text"), text: z.string() });
const ImageContentPart = z.object({
  type: z.literal("image_url"),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(["auto", "low", "high"]).optional() }),
});
const InputAudioPart = z.object({ type: z.literal("input_audio") });
const FilePart = z.object({ type: z.literal("file") });
const RefusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });

const UserContentPart = z.discriminatedUnion("type", [TextContentPart, ImageContentPart, InputAudioPart, FilePart]);

const ToolCallSchema = z.object({
  id: z.string(),
  type: z.literal("function").default("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const OpenAIMessageSchema = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "developer"]), content: z.union([z.string(), z.array(TextContentPart)]), name: z.string().optional() }),
  z.object({ role: z.literal("user"), content: z.union([z.string(), z.array(UserContentPart)]), name: z.string().optional() }),
  z.object({
    role: z.literal("assistant"),
    content: z.union([z.string(), z.array(z.discriminatedUnion("type", [TextContentPart, RefusalPart]))]).nullish(),
    tool_calls: z.array(ToolCallSchema).optional(),
    name: z.string().optional(),
    refusal: z.string().nullish(),
  }),
  z.object({ role: z.literal("tool"), tool_call_id: z.string(), content: z.union([z.string(), z.array(TextContentPart)]) }),
]);
export type OpenAIMessage = z.infer<typeof OpenAIMessageSchema>;

const JsonSchemaObject = z.record(z.string(), z.unknown());

export const OpenAIChatRequestSchema = z.object({
  model: ModelNameSchema,
  messages: z.array(OpenAIMessageSchema).min(1),
  tools: z
    .array(
      z.object({
        type: z.literal("function"),
        function: z.object({
          name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "function names are 1-64 letters, digits, _ or -"),
          description: z.string().optional(),
          parameters: JsonSchemaObject.optional(),
          strict: z.boolean().nullish(),
        }),
      }),
    )
    .optional(),
  tool_choice: z
    .union([z.enum(["auto", "none", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) })])
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_object") }),
      z.object({
        type: z.literal("json_schema"),
        json_schema: z.object({
          name: z.string().min(1),
          schema: JsonSchemaObject.optional(),
          strict: z.boolean().nullish(),
          description: z.string().optional(),
        }),
      }),
    ])
    .optional(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  reasoning_effort: z.enum(["minimal", "low", "medium", "high"]).nullish(),
  n: z.literal(1, { message: "only n=1 is supported" }).nullish(),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
});
export type OpenAIChatRequest = z.infer<typeof OpenAIChatRequestSchema>;

export const OpenAIEmbeddingsRequestSchema = z.object({
  model: ModelNameSchema,
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]),
  dimensions: z.number().int().positive().optional(),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: z.string().optional(),
});
export type OpenAIEmbeddingsRequest = z.infer<typeof OpenAIEmbeddingsRequestSchema>;

/** Upstream OpenAI responses (what an OpenAI-format provider returns). */
export const OpenAIUsageSchema = z.object({
  prompt_tokens: z.number().int().default(0),
  completion_tokens: z.number().int().default(0),
  prompt_tokens_details: z.object({ cached_tokens: z.number().int().nullish() }).nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().int().nullish() }).nullish(),
});

export const OpenAIChatResponseSchema = z.object({
  id: z.string(),
  created: z.number().optional(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z.array(ToolCallSchema).nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: OpenAIUsageSchema.nullish(),
});

export const OpenAIChatChunkSchema = z.object({
  id: z.string().optional(),
  model: z.string().optional(),
  choices: z.array(
    z.object({
      delta: z
        .object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                index: z.number().int(),
                id: z.string().nullish(),
                function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
              }),
            )
            .nullish(),
        })
        .nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: OpenAIUsageSchema.nullish(),
});

export const OpenAIEmbeddingsResponseSchema = z.object({
  model: z.string(),
  data: z.array(z.object({ index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  usage: z.object({ prompt_tokens: z.number().int() }).nullish(),
});

export const OpenAIErrorBodySchema = z.object({
  error: z.object({
    message: z.string().nullish(),
    type: z.string().nullish(),
    param: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
  }),
});
