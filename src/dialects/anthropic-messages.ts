import { sseFrame } from "../lib/sse";
import type { AnthropicContentBlock, AnthropicMessagesRequest } from "../schema/anthropic";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason, StreamEvent, TextPart, Usage } from "../schema/internal";
import { emptyUsage } from "../schema/internal";
import { mergeUsage } from "./openai-chat";
import type { StreamRenderer } from "./stream-renderer";
import { parseToolArguments } from "../lib/tool-arguments";

/** The Anthropic Messages dialect as the gateway's clients speak it on /v1/messages. */

function blockToPart(block: Extract<AnthropicContentBlock, { type: "text" | "image" }>): ContentPart {
  if (block.type === "text") return { type: "text", text: block.text };
  return block.source.type === "url"
    ? { type: "image", source: { kind: "url", url: block.source.url } }
    : { type: "image", source: { kind: "base64", mediaType: block.source.media_type, data: block.source.data } };
}

function userMessages(content: AnthropicMessagesRequest["messages"][number]["content"]): ChatMessage[] {
  if (typeof content === "string") return [{ role: "user", content: [{ type: "text", text: content }] }];
  const toolResults: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const block of content) {
    if (block.type === "tool_result") {
      const resultParts: ContentPart[] = typeof block.content === "string" ? [{ type: "text", text: block.content }] : (block.content ?? []).map(blockToPart);
      toolResults.push({ role: "tool", toolCallId: block.tool_use_id, content: resultParts, ...(block.is_error ? { isError: true } : {}) });
    } else if (block.type === "text" || block.type === "image") {
      parts.push(blockToPart(block));
    }
  }
  // Tool results answer the previous assistant turn, so they come first (OpenAI requires that order).
  return parts.length > 0 ? [...toolResults, { role: "user", content: parts }] : toolResults;
}

function assistantMessage(content: AnthropicMessagesRequest["messages"][number]["content"]): ChatMessage {
  if (typeof content === "string") return { role: "assistant", content: [{ type: "text", text: content }], toolCalls: [] };
  const text: TextPart[] = [];
  const toolCalls = [];
  for (const block of content) {
    if (block.type === "text") text.push({ type: "text", text: block.text });
    if (block.type === "tool_use") toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
  }
  return { role: "assistant", content: text, toolCalls };
}

export function anthropicMessagesToInternal(body: AnthropicMessagesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  if (body.system !== undefined) {
    const system = typeof body.system === "string" ? [{ type: "text" as const, text: body.system }] : body.system.map((b) => ({ type: "text" as const, text: b.text }));
    if (system.length > 0) messages.push({ role: "system", content: system });
  }
  for (const message of body.messages) {
    if (message.role === "user") messages.push(...userMessages(message.content));
    else messages.push(assistantMessage(message.content));
  }
  const request: ChatRequest = { model: body.model, messages, maxTokens: body.max_tokens, stream: body.stream === true, includeUsage: true };
  if (body.tools?.length) request.tools = body.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.input_schema }));
  if (body.tool_choice) {
    const choice = body.tool_choice;
    request.toolChoice = choice.type === "auto" ? "auto" : choice.type === "any" ? "required" : choice.type === "none" ? "none" : { name: choice.name };
    if ("disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use) request.parallelToolCalls = false;
  }
  if (body.stop_sequences?.length) request.stop = body.stop_sequences;
  if (body.temperature !== undefined) request.temperature = body.temperature;
  if (body.top_p !== undefined) request.topP = body.top_p;
  if (body.top_k !== undefined) request.topK = body.top_k;
  if (body.metadata?.user_id) request.user = body.metadata.user_id;
  return request;
}

export function stopReasonToAnthropic(reason: FinishReason, stopSequence?: string): string {
  switch (reason) {
    case "length":
      return "max_tokens";
    case "tool_calls":
      return "tool_use";
    case "content_filter":
      return "refusal";
    case "stop":
      return stopSequence ? "stop_sequence" : "end_turn";
  }
}

export function usageToAnthropic(usage: Usage) {
  return {
    input_tokens: Math.max(0, usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens),
    output_tokens: usage.completionTokens,
    cache_read_input_tokens: usage.cachedTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
  };
}


export function renderAnthropicMessage(result: ChatResult) {
  const content: Record<string, unknown>[] = [];
  if (result.text !== "" || result.toolCalls.length === 0) content.push({ type: "text", text: result.text });
  for (const call of result.toolCalls) content.push({ type: "tool_use", id: call.id, name: call.name, input: parseToolArguments(call.arguments) });
  return {
    id: result.id,
    type: "message",
    role: "assistant",
    model: result.model,
    content,
    stop_reason: stopReasonToAnthropic(result.finishReason, result.stopSequence),
    stop_sequence: result.stopSequence ?? null,
    usage: usageToAnthropic(result.usage),
  };
}

export class AnthropicMessagesStreamRenderer implements StreamRenderer {
  #started = false;
  #openBlock: { index: number; kind: "text" | "tool_use" } | undefined;
  #nextBlockIndex = 0;
  readonly #usage = emptyUsage();
  readonly #fallbackModel: string;

  constructor(options: { fallbackModel: string }) {
    this.#fallbackModel = options.fallbackModel;
  }

  #start(id: string, model: string): string {
    this.#started = true;
    const message = { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: usageToAnthropic(this.#usage) };
    return sseFrame(JSON.stringify({ type: "message_start", message }), "message_start");
  }

  #ensureStarted(): string {
    return this.#started ? "" : this.#start("", this.#fallbackModel);
  }

  #closeBlock(): string {
    if (!this.#openBlock) return "";
    const out = sseFrame(JSON.stringify({ type: "content_block_stop", index: this.#openBlock.index }), "content_block_stop");
    this.#openBlock = undefined;
    return out;
  }

  #openNew(kind: "text" | "tool_use", contentBlock: Record<string, unknown>): string {
    const out = this.#closeBlock();
    this.#openBlock = { index: this.#nextBlockIndex++, kind };
    return out + sseFrame(JSON.stringify({ type: "content_block_start", index: this.#openBlock.index, content_block: contentBlock }), "content_block_start");
  }

  #delta(delta: Record<string, unknown>): string {
    return sseFrame(JSON.stringify({ type: "content_block_delta", index: this.#openBlock?.index ?? 0, delta }), "content_block_delta");
  }

  event(event: StreamEvent): string {
    switch (event.type) {
      case "start":
        mergeUsage(this.#usage, event.usage);
        return this.#start(event.id, event.model || this.#fallbackModel);
      case "text": {
        let out = this.#ensureStarted();
        if (this.#openBlock?.kind !== "text") out += this.#openNew("text", { type: "text", text: "" });
        return out + this.#delta({ type: "text_delta", text: event.delta });
      }
      case "tool_call_start":
        return this.#ensureStarted() + this.#openNew("tool_use", { type: "tool_use", id: event.id, name: event.name, input: {} });
      case "tool_call_delta":
        return this.#openBlock?.kind === "tool_use" ? this.#delta({ type: "input_json_delta", partial_json: event.argumentsDelta }) : "";
      case "usage":
        mergeUsage(this.#usage, event.usage);
        return "";
      case "reasoning":
      case "reasoning_signature":
      case "reasoning_redacted":
        // Chat Completions has no reasoning in its stream; Anthropic clients see the answer without thinking blocks.
        return "";
      case "finish": {
        const out = this.#ensureStarted() + this.#closeBlock();
        const delta = { stop_reason: stopReasonToAnthropic(event.finishReason, event.stopSequence), stop_sequence: event.stopSequence ?? null };
        return (
          out +
          sseFrame(JSON.stringify({ type: "message_delta", delta, usage: usageToAnthropic(this.#usage) }), "message_delta") +
          sseFrame(JSON.stringify({ type: "message_stop" }), "message_stop")
        );
      }
    }
  }

  error(error: { toAnthropic(): unknown }): string {
    return sseFrame(JSON.stringify(error.toAnthropic()), "error");
  }
}
