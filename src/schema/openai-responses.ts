import * as z from "zod";

/**
 * The OpenAI Responses API as clients send it (`POST /v1/responses`, `GET /v1/responses/{id}/input_items`), and
 * the items the gateway stores and returns. Unknown fields are tolerated, as OpenAI's SDKs add fields over time;
 * the item and tool types the gateway cannot serve parse as `UnsupportedItem` / `UnsupportedTool`, so the dialect
 * can refuse them with a message that names the field (src/dialects/openai-responses.ts).
 */

const JsonSchemaObject = z.record(z.string(), z.unknown());

const InputTextPart = z.object({ type: z.literal("input_text"), text: z.string() });
const OutputTextPart = z.object({ type: z.literal("output_text"), text: z.string() });
const RefusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });
const InputImagePart = z.object({
  type: z.literal("input_image"),
  image_url: z.string().min(1).nullish(),
  file_id: z.string().nullish(),
  detail: z.enum(["auto", "low", "high", "original"]).nullish(),
});
const InputFilePart = z.object({ type: z.literal("input_file") });
const InputAudioPart = z.object({ type: z.literal("input_audio") });

const MessagePart = z.discriminatedUnion("type", [InputTextPart, OutputTextPart, RefusalPart, InputImagePart, InputFilePart, InputAudioPart]);
export type ResponsesMessagePart = z.infer<typeof MessagePart>;

const ItemStatus = z.enum(["in_progress", "completed", "incomplete"]).nullish();

const MessageItem = z.object({
  type: z.literal("message"),
  id: z.string().nullish(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(MessagePart)]),
  status: ItemStatus,
});

const FunctionCallItem = z.object({
  type: z.literal("function_call"),
  id: z.string().nullish(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status: ItemStatus,
});

const FunctionCallOutputItem = z.object({
  type: z.literal("function_call_output"),
  id: z.string().nullish(),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.discriminatedUnion("type", [InputTextPart, InputImagePart, InputFilePart]))]),
  status: ItemStatus,
});

const ReasoningItem = z.object({
  type: z.literal("reasoning"),
  id: z.string().nullish(),
  summary: z.array(z.object({ type: z.literal("summary_text"), text: z.string() })).default([]),
  content: z.array(z.object({ type: z.literal("reasoning_text"), text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
  status: ItemStatus,
});

const KNOWN_ITEM_TYPES = new Set(["message", "function_call", "function_call_output", "reasoning"]);

/** Any other item type (web_search_call, computer_call, item_reference, ...): parsed so it can be refused by name. */
const UnsupportedItem = z
  .looseObject({ type: z.string().refine((type) => !KNOWN_ITEM_TYPES.has(type), "unexpected item type") })
  .transform((item) => ({ type: "unsupported" as const, itemType: item.type }));

const InputItem = z.preprocess(
  // An "easy" input message leaves `type` out.
  (value) => (typeof value === "object" && value !== null && !Array.isArray(value) && !("type" in value) ? { ...value, type: "message" } : value),
  z.union([z.discriminatedUnion("type", [MessageItem, FunctionCallItem, FunctionCallOutputItem, ReasoningItem]), UnsupportedItem]),
);
export type ResponsesInputItem = z.infer<typeof InputItem>;

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const FunctionTool = z.object({
  type: z.literal("function"),
  name: z.string().regex(FUNCTION_NAME, "function names are 1-64 letters, digits, _ or -"),
  description: z.string().nullish(),
  parameters: JsonSchemaObject.nullish(),
  strict: z.boolean().nullish(),
});
export type ResponsesFunctionTool = z.infer<typeof FunctionTool>;

/** A built-in tool (web_search, file_search, code_interpreter, computer_use, mcp, ...): refused by name. */
const UnsupportedTool = z
  .looseObject({ type: z.string().refine((type) => type !== "function", "unexpected tool type") })
  .transform((tool) => ({ type: "unsupported" as const, toolType: tool.type }));

const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), name: z.string().min(1) }),
  z.object({
    type: z.literal("allowed_tools"),
    mode: z.enum(["auto", "required"]),
    tools: z.array(z.object({ type: z.string(), name: z.string().optional() })).min(1),
  }),
  z
    .looseObject({ type: z.string().refine((type) => type !== "function" && type !== "allowed_tools", "unexpected tool choice") })
    .transform((choice) => ({ type: "unsupported" as const, toolType: choice.type })),
]);

const TextFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().regex(FUNCTION_NAME, "schema names are 1-64 letters, digits, _ or -"),
    schema: JsonSchemaObject,
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

export const REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"] as const;

/** OpenAI's metadata limits: 16 pairs, keys up to 64 characters, values up to 512. */
const Metadata = z
  .record(z.string().max(64, "metadata keys are at most 64 characters"), z.string().max(512, "metadata values are at most 512 characters"))
  .refine((value) => Object.keys(value).length <= 16, "metadata holds at most 16 pairs");

/** The request id form the gateway issues; anything else cannot name a stored response. */
export const RESPONSE_ID = /^resp_[0-9a-f]{2}[A-Za-z0-9]{40}$/;

export const ResponsesRequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(InputItem).min(1)]),
  instructions: z.string().nullish(),
  tools: z.array(z.union([FunctionTool, UnsupportedTool])).max(128).nullish(),
  tool_choice: ToolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.object({ format: TextFormat.nullish(), verbosity: z.enum(["low", "medium", "high"]).nullish() }).nullish(),
  reasoning: z.object({ effort: z.enum(REASONING_EFFORTS).nullish(), summary: z.enum(["auto", "concise", "detailed"]).nullish() }).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  metadata: Metadata.nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_obfuscation: z.boolean().nullish() }).nullish(),
  previous_response_id: z.string().min(1).nullish(),
  user: z.string().optional(),
  safety_identifier: z.string().nullish(),
  truncation: z.enum(["auto", "disabled"]).nullish(),
  include: z.array(z.string()).nullish(),
  service_tier: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  // Features the gateway does not offer: accepted only when absent, so a client never silently loses them.
  background: z.literal(false, { message: "background responses are not supported by this gateway" }).nullish(),
  conversation: z.null({ message: "the Conversations API is not supported by this gateway; use previous_response_id" }).optional(),
  prompt: z.null({ message: "prompt templates are not supported by this gateway; send instructions and input" }).optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;

export const ListInputItemsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
  after: z.string().min(1).optional(),
  before: z.string().min(1).optional(),
});
export type ListInputItemsQuery = z.infer<typeof ListInputItemsQuerySchema>;

/**
 * An item as the gateway stores and returns it (input items and output items alike): every item has an id and a
 * status, message content is always a list, and only the types the gateway serves exist. (`in_progress` only
 * appears on items of a response still streaming.)
 */
const StoredStatus = z.enum(["in_progress", "completed", "incomplete"]);
const StoredImagePart = z.object({ type: z.literal("input_image"), image_url: z.string(), detail: z.enum(["auto", "low", "high", "original"]) });
const StoredPart = z.discriminatedUnion("type", [
  InputTextPart,
  z.object({ type: z.literal("output_text"), text: z.string(), annotations: z.array(z.unknown()), logprobs: z.array(z.unknown()).optional() }),
  RefusalPart,
  StoredImagePart,
]);
export type StoredPart = z.infer<typeof StoredPart>;

export const StoredItemSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("message"), id: z.string(), role: z.enum(["user", "assistant", "system", "developer"]), status: StoredStatus, content: z.array(StoredPart) }),
  z.object({ type: z.literal("function_call"), id: z.string(), call_id: z.string(), name: z.string(), arguments: z.string(), status: StoredStatus }),
  z.object({
    type: z.literal("function_call_output"),
    id: z.string(),
    call_id: z.string(),
    output: z.union([z.string(), z.array(z.discriminatedUnion("type", [InputTextPart, StoredImagePart]))]),
    status: StoredStatus,
  }),
  z.object({
    type: z.literal("reasoning"),
    id: z.string(),
    summary: z.array(z.object({ type: z.literal("summary_text"), text: z.string() })),
    encrypted_content: z.string().nullish(),
    status: StoredStatus.optional(),
  }),
]);
export type StoredItem = z.infer<typeof StoredItemSchema>;
