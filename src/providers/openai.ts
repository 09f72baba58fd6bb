import type * as z from "zod";
import type { ProviderConfig } from "../config/schema";
import { GatewayError } from "../lib/errors";
import { decodeSSE } from "../lib/sse";
import {
  OpenAIChatChunkSchema,
  OpenAIChatResponseSchema,
  OpenAIEmbeddingsResponseSchema,
  OpenAIErrorBodySchema,
  type OpenAIUsageSchema,
} from "../schema/openai";
import type {
  ChatMessage,
  ChatRequest,
  ChatResult,
  ContentPart,
  EmbeddingsRequest,
  EmbeddingsResult,
  FinishReason,
  StreamEvent,
  Usage,
} from "../schema/internal";
import { base64Decode } from "../lib/crypto";
import type { ProviderAdapter, UpstreamErrorInfo, UpstreamTarget } from "./types";

/**
 * The OpenAI wire format, used by OpenAI itself and reused by every OpenAI-compatible provider: the functions
 * here are the translation, the adapter at the bottom adds OpenAI's URL and auth.
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

function invalidUpstream(provider: string, detail: string): GatewayError {
  return new GatewayError({ status: 502, type: "upstream_error", code: "invalid_upstream_response", provider, message: `${provider}: invalid response from upstream (${detail})` });
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

/** OpenAI chunks → internal events. `finish` is held until `[DONE]`, so a stream cut before it never looks complete. */
export function parseOpenAIChatStream(body: ReadableStream<Uint8Array>, providerName: string): ReadableStream<StreamEvent> {
  let started = false;
  let finishReason: FinishReason | undefined;
  const toolIndexes = new Set<number>();
  return decodeSSE(body).pipeThrough(
    new TransformStream({
      transform(message, controller) {
        if (message.data === "[DONE]") {
          controller.enqueue({ type: "finish", finishReason: finishReason ?? "stop" });
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(message.data);
        } catch {
          throw invalidUpstream(providerName, "a stream event is not JSON");
        }
        const error = OpenAIErrorBodySchema.safeParse(json);
        if (error.success) {
          throw new GatewayError({ status: 502, type: "upstream_error", code: "upstream_stream_error", provider: providerName, message: `${providerName}: ${error.data.error.message ?? "stream error"}` });
        }
        const chunk = OpenAIChatChunkSchema.safeParse(json);
        if (!chunk.success) throw invalidUpstream(providerName, "unexpected stream chunk");
        if (!started) {
          // Azure opens with a chunk that only carries prompt_filter_results (no id, model or choices).
          if (chunk.data.choices.length === 0 && !chunk.data.usage && !chunk.data.id) return;
          started = true;
          controller.enqueue({ type: "start", id: chunk.data.id ?? "", model: chunk.data.model ?? "" });
        }
        for (const choice of chunk.data.choices) {
          const delta = choice.delta;
          if (delta?.content) controller.enqueue({ type: "text", delta: delta.content });
          if (delta?.refusal) controller.enqueue({ type: "text", delta: delta.refusal });
          for (const call of delta?.tool_calls ?? []) {
            if (!toolIndexes.has(call.index)) {
              toolIndexes.add(call.index);
              controller.enqueue({ type: "tool_call_start", index: call.index, id: call.id ?? `call_${call.index}`, name: call.function?.name ?? "" });
            }
            if (call.function?.arguments) controller.enqueue({ type: "tool_call_delta", index: call.index, argumentsDelta: call.function.arguments });
          }
          if (choice.finish_reason) finishReason = finishReasonFromOpenAI(choice.finish_reason);
        }
        if (chunk.data.usage) controller.enqueue({ type: "usage", usage: usageFromOpenAI(chunk.data.usage) });
      },
    }),
  );
}

export function parseOpenAIEmbeddingsResponse(body: unknown, providerName: string): EmbeddingsResult {
  const parsed = OpenAIEmbeddingsResponseSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(providerName, "unexpected embeddings shape");
  const vectors = [...parsed.data.data]
    .sort((a, b) => a.index - b.index)
    .map((item) => (typeof item.embedding === "string" ? Array.from(new Float32Array(base64Decode(item.embedding).buffer)) : item.embedding));
  return { model: parsed.data.model, vectors, usage: { promptTokens: parsed.data.usage?.prompt_tokens ?? 0 } };
}

export function parseOpenAIError(status: number, bodyText: string): UpstreamErrorInfo {
  try {
    const parsed = OpenAIErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success && parsed.data.error.message) {
      const { message, type, code, param } = parsed.data.error;
      return { message, type: type ?? undefined, code: code === null || code === undefined ? null : String(code), param: param ?? null };
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: bodyText.slice(0, 500) || `HTTP ${status}` };
}

export const jsonRequest = (url: string, headers: Record<string, string>, body: unknown): Request =>
  new Request(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

const trimSlash = (url: string) => url.replace(/\/+$/, "");

type OpenAIConfig = Extract<ProviderConfig, { type: "openai" }>;

async function openAIHeaders(target: UpstreamTarget<OpenAIConfig>): Promise<Record<string, string>> {
  const headers: Record<string, string> = { authorization: `Bearer ${await target.secret(target.config.apiKey)}` };
  if (target.config.organization) headers["openai-organization"] = target.config.organization;
  if (target.config.project) headers["openai-project"] = target.config.project;
  return headers;
}

export const openAIAdapter: ProviderAdapter<OpenAIConfig> = {
  type: "openai",
  supports: { chat: true, stream: true, tools: true, embeddings: true, vision: true },
  async buildChatRequest(request: ChatRequest, target) {
    return jsonRequest(`${trimSlash(target.config.baseURL)}/chat/completions`, await openAIHeaders(target), chatRequestToOpenAI(request, target.model));
  },
  parseChatResponse: (body, target) => parseOpenAIChatResponse(body, target.providerName),
  parseChatStream: (body, target) => parseOpenAIChatStream(body, target.providerName),
  async buildEmbeddingsRequest(request: EmbeddingsRequest, target) {
    const body = { model: target.model, input: request.input, encoding_format: "float", ...(request.dimensions ? { dimensions: request.dimensions } : {}), ...(request.user ? { user: request.user } : {}) };
    return jsonRequest(`${trimSlash(target.config.baseURL)}/embeddings`, await openAIHeaders(target), body);
  },
  parseEmbeddingsResponse: (body, target) => parseOpenAIEmbeddingsResponse(body, target.providerName),
  parseError: parseOpenAIError,
};
