import type { ChatMessage, ChatRequest } from "../schema/internal";

/** Characters per token for the quick estimate; close enough to rank sizes and prices, never used for billing. */
const CHARS_PER_TOKEN = 4;
/** Images count as a fixed block of tokens in the estimate (a mid-size image at OpenAI's low-detail rate and up). */
const IMAGE_TOKENS = 765;

function messageChars(message: ChatMessage): number {
  let chars = 0;
  for (const part of message.content) chars += part.type === "text" ? part.text.length : IMAGE_TOKENS * CHARS_PER_TOKEN;
  if (message.role === "assistant") for (const call of message.toolCalls) chars += call.name.length + call.arguments.length;
  return chars;
}

/**
 * An estimate of a request's prompt tokens without a tokenizer (none belongs on the hot path): characters / 4
 * over messages and tool definitions.
 */
export function estimatePromptTokens(request: Pick<ChatRequest, "messages" | "tools">): number {
  let chars = 0;
  for (const message of request.messages) chars += messageChars(message);
  for (const tool of request.tools ?? []) chars += tool.name.length + (tool.description?.length ?? 0) + JSON.stringify(tool.parameters).length;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** The same estimate for plain texts (embeddings input). */
export const estimateTextTokens = (texts: readonly string[]): number => Math.ceil(texts.reduce((sum, text) => sum + text.length, 0) / CHARS_PER_TOKEN);
