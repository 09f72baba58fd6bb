import type { ChatRequest, ContentPart, EmbeddingsRequest } from "../schema/internal";

/**
 * The gateway's one token estimate. It is made once per request, before anything is sent
 * (`src/pipeline/serve.ts`), and handed on as a value: to routing (`promptTokens` conditions, the `cost`
 * strategy), to admission (tpm, budget reservations) and to settlement (a stream that ended without the
 * provider's usage). There is no tokenizer on the hot path, so the estimate leans high on purpose: admission
 * must never let a request in on a count the provider will exceed.
 *
 * - ASCII text: 3 characters per token (English prose runs at about 4).
 * - Every other script: 2 UTF-8 bytes per token, i.e. 1.5 tokens per CJK, kana or hangul character, 1 per accented
 *   Latin, Greek or Cyrillic letter, 2 per emoji — the high end of what common tokenizers bill for them. A count
 *   per UTF-16 character (the old rule) under-estimated dense scripts about fivefold.
 */
const ASCII_CHARS_PER_TOKEN = 3;
const OTHER_UTF8_BYTES_PER_TOKEN = 2;
/** Role markers and separators each message costs on top of its text. */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** An image's prompt tokens, at the high end of the providers' formulas (Anthropic: about 1,600 for ~1.15 MP). */
const IMAGE_TOKENS = 1_600;

/** A text's estimated tokens, unrounded, so estimates of many small pieces (stream deltas) can be summed first. */
export function textTokenWeight(text: string): number {
  let ascii = 0;
  let otherBytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii++;
    // Two-byte UTF-8 characters, and each half of a surrogate pair (a four-byte character in total).
    else if (code < 0x800 || (code >= 0xd800 && code <= 0xdfff)) otherBytes += 2;
    else otherBytes += 3;
  }
  return ascii / ASCII_CHARS_PER_TOKEN + otherBytes / OTHER_UTF8_BYTES_PER_TOKEN;
}

export const estimateTextTokens = (text: string): number => Math.ceil(textTokenWeight(text));

/** What a request may consume, known before it is sent. */
export type RequestEstimate = {
  promptTokens: number;
  /** The request's own output cap (`max_tokens`); undefined when it set none. Embeddings: 0. */
  maxOutputTokens: number | undefined;
};

const partWeight = (part: ContentPart): number => (part.type === "text" ? textTokenWeight(part.text) : IMAGE_TOKENS);

/** A chat request's estimate: messages, tool calls, tool definitions and a JSON schema response format. */
export function estimateChatRequest(request: Pick<ChatRequest, "messages" | "tools" | "responseFormat" | "maxTokens">): RequestEstimate {
  let weight = 0;
  for (const message of request.messages) {
    weight += MESSAGE_OVERHEAD_TOKENS;
    for (const part of message.content) weight += partWeight(part);
    if (message.role === "assistant") for (const call of message.toolCalls) weight += textTokenWeight(call.name) + textTokenWeight(call.arguments);
  }
  for (const tool of request.tools ?? []) weight += textTokenWeight(JSON.stringify(tool));
  if (request.responseFormat?.type === "json_schema") weight += textTokenWeight(JSON.stringify(request.responseFormat.schema));
  return { promptTokens: Math.ceil(weight), maxOutputTokens: request.maxTokens };
}

export function estimateEmbeddingsRequest(request: Pick<EmbeddingsRequest, "input">): RequestEstimate {
  let weight = 0;
  for (const input of request.input) weight += textTokenWeight(input);
  return { promptTokens: Math.ceil(weight), maxOutputTokens: 0 };
}
