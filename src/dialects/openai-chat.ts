import type * as z from "zod";
import { badRequest } from "../lib/errors";
import { sseFrame } from "../lib/sse";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason, StreamEvent, TextPart, Usage } from "../schema/internal";
import { emptyUsage } from "../schema/internal";
import type { OpenAIChatRequestSchema, OpenAIMessage } from "../schema/openai";
import type { StreamRenderer } from "./stream-renderer";

/** The OpenAI Chat Completions dialect as the gateway's clients speak it: request in, response and stream out. */

type OpenAIChatRequest = z.infer<typeof OpenAIChatRequestSchema>;

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function textParts(content: string | { text: string }[] | null | undefined): TextPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  return content.map((part) => ({ type: "text", text: part.text }));
}

function userParts(content: Extract<OpenAIMessage, { role: "user" }>["content"], index: number): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return content.map((part, partIndex): ContentPart => {
    if (part.type === "text") return { type: "text", text: part.text };
    if (part.type === "image_url") {
      const inline = DATA_URL.exec(part.image_url.url);
      return inline
        ? { type: "image", source: { kind: "base64", mediaType: inline[1]!, data: inline[2]! } }
        : { type: "image", source: { kind: "url", url: part.image_url.url, ...(part.image_url.detail ? { detail: part.image_url.detail } : {}) } };
    }
    throw badRequest(`content part type "${part.type}" is not supported by this gateway`, `messages[${index}].content[${partIndex}].type`);
  });
}

function toInternalMessage(message: OpenAIMessage, index: number): ChatMessage {
  switch (message.role) {
    case "system":
    case "developer":
      return { role: "system", content: textParts(message.content) };
    case "user":
      return { role: "user", content: userParts(message.content, index), ...(message.name ? { name: message.name } : {}) };
    case "assistant": {
      const content = typeof message.content === "string" || !message.content ? textParts(message.content) : message.content.map((p): TextPart => ({ type: "text", text: p.type === "text" ? p.text : p.refusal }));
      return { role: "assistant", content, toolCalls: (message.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) };
    }
    case "tool":
      return { role: "tool", toolCallId: message.tool_call_id, content: textParts(message.content) };
  }
}

export function openAIChatToInternal(body: OpenAIChatRequest): ChatRequest {
  const request: ChatRequest = {
    model: body.model,
    messages: body.messages.map(toInternalMessage),
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
  };
  if (body.tools) request.tools = body.tools.map((t) => ({ name: t.function.name, description: t.function.description, parameters: t.function.parameters ?? { type: "object", properties: {} }, ...(typeof t.function.strict === "boolean" ? { strict: t.function.strict } : {}) }));
  if (body.tool_choice !== undefined) request.toolChoice = typeof body.tool_choice === "string" ? body.tool_choice : { name: body.tool_choice.function.name };
  if (body.parallel_tool_calls !== undefined) request.parallelToolCalls = body.parallel_tool_calls;
  if (body.response_format) {
    const format = body.response_format;
    request.responseFormat =
      format.type === "json_schema"
        ? { type: "json_schema", name: format.json_schema.name, schema: format.json_schema.schema ?? {}, ...(typeof format.json_schema.strict === "boolean" ? { strict: format.json_schema.strict } : {}), ...(format.json_schema.description ? { description: format.json_schema.description } : {}) }
        : { type: format.type };
  }
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) request.maxTokens = maxTokens;
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.topP = body.top_p;
  if (body.stop != null) request.stop = typeof body.stop === "string" ? [body.stop] : body.stop;
  if (body.seed != null) request.seed = body.seed;
  if (body.presence_penalty != null) request.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) request.frequencyPenalty = body.frequency_penalty;
  if (body.reasoning_effort != null) request.reasoningEffort = body.reasoning_effort;
  if (body.user !== undefined) request.user = body.user;
  if (body.metadata != null) request.metadata = body.metadata;
  return request;
}

export function usageToOpenAI(usage: Usage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

export function renderOpenAIChat(result: ChatResult) {
  return {
    id: result.id,
    object: "chat.completion",
    created: result.created,
    model: result.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: result.toolCalls.length > 0 && result.text === "" ? null : result.text,
          refusal: null,
          ...(result.toolCalls.length > 0
            ? { tool_calls: result.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })) }
            : {}),
        },
        logprobs: null,
        finish_reason: result.finishReason,
      },
    ],
    usage: usageToOpenAI(result.usage),
  };
}

/** Merges the partial usages a stream reports into one total (later reports of a field replace earlier ones). */
export function mergeUsage(into: Usage, partial: Partial<Usage> | undefined): Usage {
  if (partial) Object.assign(into, Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)));
  return into;
}

export class OpenAIChatStreamRenderer implements StreamRenderer {
  #id = "";
  #model = "";
  readonly #created = Math.floor(Date.now() / 1000);
  readonly #usage = emptyUsage();
  readonly #includeUsage: boolean;

  constructor(options: { includeUsage: boolean; fallbackModel: string }) {
    this.#includeUsage = options.includeUsage;
    this.#model = options.fallbackModel;
  }

  #chunk(delta: Record<string, unknown>, finishReason: FinishReason | null = null): string {
    const chunk: Record<string, unknown> = {
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (this.#includeUsage) chunk.usage = null;
    return sseFrame(JSON.stringify(chunk));
  }

  event(event: StreamEvent): string {
    switch (event.type) {
      case "start":
        this.#id = event.id || this.#id;
        this.#model = event.model || this.#model;
        mergeUsage(this.#usage, event.usage);
        return this.#chunk({ role: "assistant", content: "", refusal: null });
      case "text":
        return this.#chunk({ content: event.delta });
      case "tool_call_start":
        return this.#chunk({ tool_calls: [{ index: event.index, id: event.id, type: "function", function: { name: event.name, arguments: "" } }] });
      case "tool_call_delta":
        return this.#chunk({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] });
      case "usage":
        mergeUsage(this.#usage, event.usage);
        return "";
      case "reasoning":
      case "reasoning_signature":
      case "reasoning_redacted":
        // Chat Completions has no reasoning in its stream; Anthropic clients see the answer without thinking blocks.
        return "";
      case "finish": {
        let out = this.#chunk({}, event.finishReason);
        if (this.#includeUsage) {
          out += sseFrame(JSON.stringify({ id: this.#id, object: "chat.completion.chunk", created: this.#created, model: this.#model, choices: [], usage: usageToOpenAI(this.#usage) }));
        }
        return out + sseFrame("[DONE]");
      }
    }
  }

  error(error: { toOpenAI(): unknown }): string {
    return sseFrame(JSON.stringify(error.toOpenAI()));
  }
}
