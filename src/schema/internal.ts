/**
 * The gateway's internal form: every client dialect (OpenAI chat, Anthropic messages) is parsed into it, every
 * provider adapter translates from it, and every response or stream comes back in it before it is rendered in
 * the client's dialect. Routing, caching, limits and usage accounting only ever see this form.
 */

export type TextPart = { type: "text"; text: string };
export type ImagePart = {
  type: "image";
  source: { kind: "url"; url: string; detail?: "auto" | "low" | "high" } | { kind: "base64"; mediaType: string; data: string };
};
export type ContentPart = TextPart | ImagePart;

export type ToolCall = { id: string; name: string; arguments: string };

/**
 * Reasoning a model returned with its answer. Kept so it can go back with the turn it belongs to: Anthropic (and
 * Claude on Bedrock or Vertex AI) require a tool-use turn's thinking blocks, signed, while thinking is on.
 */
export type ReasoningBlock = { type: "thinking"; text: string; signature?: string } | { type: "redacted"; data: string };

export type ChatMessage =
  | { role: "system"; content: TextPart[] }
  | { role: "user"; content: ContentPart[]; name?: string }
  | { role: "assistant"; content: TextPart[]; toolCalls: ToolCall[]; name?: string; reasoning?: ReasoningBlock[] }
  | { role: "tool"; toolCallId: string; content: ContentPart[]; isError?: boolean };

export type ToolDefinition = { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
export type ToolChoice = "auto" | "none" | "required" | { name: string };
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

/** How hard a reasoning model should think; each adapter maps it to its provider's thinking budget or level. */
export type ReasoningEffort = "none" | "minimal" | "low" | "medium" | "high" | "xhigh" | "max";

export type ChatRequest = {
  /** The model string exactly as the client sent it (`provider/model` or a route name). */
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  reasoningEffort?: ReasoningEffort;
  user?: string;
  metadata?: Record<string, string>;
  stream: boolean;
  /** The client asked for the usage chunk (`stream_options.include_usage`). The gateway always asks upstream. */
  includeUsage: boolean;
};

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export type Usage = {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens read from the provider's prompt cache (a subset of promptTokens). */
  cachedTokens: number;
  /** Prompt tokens written to the provider's prompt cache (a subset of promptTokens). */
  cacheWriteTokens: number;
  /** Completion tokens spent on reasoning (a subset of completionTokens). */
  reasoningTokens: number;
};

export const emptyUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });

export type ChatResult = {
  id: string;
  /** The model that answered, as the provider names it. */
  model: string;
  created: number;
  text: string;
  toolCalls: ToolCall[];
  /** Thinking blocks, in order, when the provider returned any. */
  reasoning?: ReasoningBlock[];
  finishReason: FinishReason;
  /** The provider's own stop reason, kept for dialects that can say more (Anthropic's `stop_sequence`). */
  stopSequence?: string;
  usage: Usage;
};

/** One event of a translated stream. Adapters emit these; renderers turn them into the client's dialect. */
export type StreamEvent =
  | { type: "start"; id: string; model: string; usage?: Partial<Usage> }
  | { type: "text"; delta: string }
  /** Thinking text; a block ends with its signature, or where text or a tool call begins. */
  | { type: "reasoning"; delta: string }
  | { type: "reasoning_signature"; signature: string }
  /** A whole redacted thinking block (Anthropic encrypts some reasoning). */
  | { type: "reasoning_redacted"; data: string }
  | { type: "tool_call_start"; index: number; id: string; name: string }
  | { type: "tool_call_delta"; index: number; argumentsDelta: string }
  | { type: "finish"; finishReason: FinishReason; stopSequence?: string }
  | { type: "usage"; usage: Partial<Usage> };

export type EmbeddingsRequest = {
  model: string;
  input: string[];
  dimensions?: number;
  encodingFormat: "float" | "base64";
  user?: string;
};

export type EmbeddingsResult = {
  model: string;
  vectors: number[][];
  /** Null when the provider reports no token count (Gemini's batchEmbedContents): the gateway then estimates it. */
  usage: { promptTokens: number } | null;
};

export type ClientDialect = "openai" | "anthropic";
