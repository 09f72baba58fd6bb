import type * as z from "zod";
import type { OpenAIUsageSchema } from "../../schema/openai";
import { OpenAIChatResponseSchema } from "../../schema/openai";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason, Usage } from "../../schema/internal";
import { invalidUpstream } from "../http";

/**
 * The OpenAI Chat Completions wire format, used by OpenAI itself and reused by Azure and every OpenAI-compatible
 * provider.
 */

type OpenAIUsage = z.infer<typeof OpenAIUsageSchema>;

export type OpenAIBodyOptions = {
  /** Send `max_tokens` instead of `max_completion_tokens` (older servers). */
  maxTokensField?: "max_tokens" | "max_completion_tokens";
  /** Ask for the usage chunk on streams (`stream_options.include_usage`). */
  streamUsage?: boolean;
  /** Request fields the server rejects, dropped before sending. */
  dropFields?: readonly string[];
};

const partToOpenAI = (part: ContentPart) =>
  part.type === "text"
    ? { type: "text", text: part.text }
    : {
        type: "image_url",
        image_url:
          part.source.kind === "url"
            ? { url: part.source.url, ...(part.source.detail ? { detail: part.source.detail } : {}) }
            : { url: `data:${part.source.mediaType};base64,${part.source.data}` },
      };

const textOf = (parts: readonly ContentPart[]) => parts.map((p) => (p.type === "text" ? p.text : "")).join("");
const onlyText = (parts: readonly ContentPart[]) => parts.every((p) => p.type === "text");

export function messageToOpenAI(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case "system":
      return { role: "system", content: textOf(message.content) };
    case "user":
      return {
        role: "user",
        content: onlyText(message.content) ? textOf(message.content) : message.content.map(partToOpenAI),
        ...(message.name ? { name: message.name } : {}),
      };
    case "assistant":
      return {
        role: "assistant",
        content: message.content.length > 0 ? textOf(message.content) : null,
        ...(message.toolCalls.length > 0
          ? { tool_calls: message.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })) }
          : {}),
      };
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: textOf(message.content) };
  }
}

export function chatRequestToOpenAI(request: ChatRequest, model: string, options: OpenAIBodyOptions = {}): Record<string, unknown> {
  const body: Record<string, unknown> = { model, messages: request.messages.map(messageToOpenAI) };
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters, ...(t.strict !== undefined ? { strict: t.strict } : {}) },
    }));
  }
  if (request.toolChoice !== undefined) {
    body.tool_choice = typeof request.toolChoice === "string" ? request.toolChoice : { type: "function", function: { name: request.toolChoice.name } };
  }
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  if (request.responseFormat) {
    const format = request.responseFormat;
    body.response_format =
      format.type === "json_schema"
        ? { type: "json_schema", json_schema: { name: format.name, schema: format.schema, strict: format.strict, description: format.description } }
        : { type: format.type };
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.maxTokens !== undefined) body[options.maxTokensField ?? "max_completion_tokens"] = request.maxTokens;
  if (request.stop?.length) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty;
  if (request.reasoningEffort !== undefined) body.reasoning_effort = request.reasoningEffort;
  if (request.user !== undefined) body.user = request.user;
  if (request.metadata !== undefined) body.metadata = request.metadata;
  if (request.stream) {
    body.stream = true;
    if (options.streamUsage ?? true) body.stream_options = { include_usage: true };
  }
  for (const field of options.dropFields ?? []) delete body[field];
  return body;
}

export function usageFromOpenAI(usage: OpenAIUsage | null | undefined): Usage {
  return {
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

export function finishReasonFromOpenAI(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "stop";
  }
}

export function parseOpenAIChatResponse(body: unknown, providerName: string): ChatResult {
  const parsed = OpenAIChatResponseSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(providerName, parsed.error.issues[0]?.message ?? "unexpected shape");
  const response = parsed.data;
  const choice = response.choices[0]!;
  return {
    id: response.id,
    model: response.model,
    created: response.created ?? Math.floor(Date.now() / 1000),
    text: choice.message.content ?? choice.message.refusal ?? "",
    toolCalls: (choice.message.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
    finishReason: finishReasonFromOpenAI(choice.finish_reason),
    usage: usageFromOpenAI(response.usage),
  };
}
