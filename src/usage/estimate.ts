import type { ChatRequest, ContentPart, EmbeddingsRequest } from "../schema/internal";

/**
 * Token estimates made before a request is sent, for admission (tpm, budget reservations). No tokenizer on the
 * hot path: characters / 3 over-counts ordinary prose (about 4 characters per token) so a reservation is rarely
 * smaller than the bill; settlement replaces every estimate with the provider's own count.
 */
const CHARS_PER_TOKEN = 3;
/** Role markers and separators each message costs on top of its text. */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** An image's prompt tokens, at the high end of both providers' formulas (Anthropic: about 1,600 for ~1.15 MP). */
const IMAGE_TOKENS = 1_600;

const textTokens = (text: string): number => Math.ceil(text.length / CHARS_PER_TOKEN);

const partTokens = (part: ContentPart): number => (part.type === "text" ? textTokens(part.text) : IMAGE_TOKENS);

/** An upper-leaning estimate of a chat request's prompt tokens: messages, tool calls and tool definitions. */
export function estimateChatPromptTokens(request: ChatRequest): number {
  let tokens = 0;
  for (const message of request.messages) {
    tokens += MESSAGE_OVERHEAD_TOKENS;
    for (const part of message.content) tokens += partTokens(part);
    if (message.role === "assistant") for (const call of message.toolCalls) tokens += textTokens(call.name) + textTokens(call.arguments);
  }
  for (const tool of request.tools ?? []) tokens += textTokens(JSON.stringify(tool));
  if (request.responseFormat?.type === "json_schema") tokens += textTokens(JSON.stringify(request.responseFormat.schema));
  return tokens;
}

export function estimateEmbeddingsTokens(request: EmbeddingsRequest): number {
  return request.input.reduce((sum, input) => sum + textTokens(input), 0);
}
