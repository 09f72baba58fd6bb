import type { ProviderConfig } from "../config/schema";
import { GatewayError, badRequest } from "../lib/errors";
import { decodeSSE } from "../lib/sse";
import { GeminiBatchEmbedResponseSchema, GeminiResponseSchema, GoogleErrorBodySchema, type GeminiResponse } from "../schema/gemini";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, EmbeddingsRequest, EmbeddingsResult, FinishReason, StreamEvent, ToolCall, Usage } from "../schema/internal";
import { jsonRequest } from "./openai";
import type { ProviderAdapter, UpstreamErrorInfo } from "./types";
import { parseToolArguments } from "../lib/tool-arguments";

/**
 * The Gemini wire format (generateContent, streamGenerateContent, batchEmbedContents). The translation functions
 * are shared with Vertex AI's Gemini models; the adapter at the bottom adds the Gemini API's URL and key.
 */

type GeminiPart = Record<string, unknown>;
type GeminiContent = { role: "user" | "model"; parts: GeminiPart[] };

const IMAGE_TYPES: Record<string, string> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", heic: "image/heic", heif: "image/heif", pdf: "application/pdf" };

/** fileData needs a MIME type; a URL only hints at it through its extension. */
function mimeTypeOfURL(url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  return (extension && IMAGE_TYPES[extension]) || "image/jpeg";
}

const partToGemini = (part: ContentPart): GeminiPart =>
  part.type === "text"
    ? { text: part.text }
    : part.source.kind === "base64"
      ? { inlineData: { mimeType: part.source.mediaType, data: part.source.data } }
      : { fileData: { mimeType: mimeTypeOfURL(part.source.url), fileUri: part.source.url } };

/** Gemini's functionCall.args must be an object: anything else is wrapped. */
function parseArguments(text: string): Record<string, unknown> {
  const value = parseToolArguments(text);
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

/** A tool result as functionResponse.response, which must be an object: `output` (or `error`) as Google suggests. */
function functionResponseOf(message: Extract<ChatMessage, { role: "tool" }>): Record<string, unknown> {
  const text = message.content.map((p) => (p.type === "text" ? p.text : "")).join("");
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // plain text stays text
  }
  return message.isError ? { error: value } : { output: value };
}

const SCHEMA_KEYS = new Set(["type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"]);

/**
 * JSON Schema → Gemini's Schema (an OpenAPI subset): keywords it rejects (`additionalProperties`, `$schema`,
 * `strict`…) are dropped, `const` becomes a one-value enum and `["string", "null"]` becomes `nullable`.
 */
export function toGeminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toGeminiSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "const") out.enum = [value];
    else if (key === "type" && Array.isArray(value)) {
      const types = value.filter((t) => t !== "null");
      if (types.length < value.length) out.nullable = true;
      if (types[0] !== undefined) out.type = types[0];
    } else if (key === "properties" && typeof value === "object" && value !== null) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, definition]) => [name, toGeminiSchema(definition)]));
    } else if (SCHEMA_KEYS.has(key)) out[key] = key === "items" || key === "anyOf" ? toGeminiSchema(value) : value;
  }
  return out;
}

const hasProperties = (schema: Record<string, unknown>) => typeof schema.properties === "object" && schema.properties !== null && Object.keys(schema.properties).length > 0;

/** A model name as a path segment (Vertex's `claude-…@20250929` keeps its `@`). */
export const modelPath = (model: string) => encodeURIComponent(model).replace(/%40/g, "@");

const THINKING_BUDGET = { minimal: 512, low: 1024, medium: 8192, high: 24576 } as const;

/** Gemini 3 takes a thinking level, 2.5 a token budget; earlier models refuse any thinking config. */
function thinkingConfig(effort: NonNullable<ChatRequest["reasoningEffort"]>, model: string): Record<string, unknown> | undefined {
  if (isGemini3OrLater(model)) return { thinkingLevel: effort === "medium" || effort === "high" ? "high" : "low" };
  if (model.startsWith("gemini-2.5")) return { thinkingBudget: THINKING_BUDGET[effort] };
  return undefined;
}

/** Gemini gives calls no ids; these are unique per response and the same in streamed and whole answers. */
const callIdPrefix = (responseId: string | undefined) => `call_${(responseId ?? crypto.randomUUID()).replace(/[^A-Za-z0-9_-]/g, "").slice(0, 24)}`;

/**
 * A call's thought signature has to come back with the call in the next turn (Gemini 3 refuses the turn
 * otherwise), and clients only keep the call's id: so the id carries it, base64url after a marker, within
 * the `[A-Za-z0-9_-]` alphabet both client dialects accept.
 */
const SIGNATURE_MARKER = "__ts_";

function callId(prefix: string, index: number, call: { id: string | undefined; signature: string | undefined }): string {
  const id = call.id ?? `${prefix}_${index}`;
  if (!call.signature) return id;
  return `${id}${SIGNATURE_MARKER}${call.signature.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

function signatureOf(id: string): string | undefined {
  const at = id.indexOf(SIGNATURE_MARKER);
  if (at < 0) return undefined;
  const encoded = id.slice(at + SIGNATURE_MARKER.length).replace(/-/g, "+").replace(/_/g, "/");
  return encoded + "=".repeat((4 - (encoded.length % 4)) % 4);
}

/** Google's documented stand-in for a signature the history lost (calls made by another model, or edited). */
const SKIP_SIGNATURE = "skip_thought_signature_validator";
const isGemini3OrLater = (model: string) => /^gemini-[3-9]/.test(model);

export function chatRequestToGemini(request: ChatRequest, model: string): Record<string, unknown> {
  const toolNames = new Map<string, string>();
  const contents: GeminiContent[] = [];
  const push = (role: GeminiContent["role"], parts: GeminiPart[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    // Tool results of one turn (and consecutive user parts) go together in one content, as Gemini expects.
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
        break;
      case "user":
        push("user", message.content.map(partToGemini));
        break;
      case "assistant":
        for (const call of message.toolCalls) toolNames.set(call.id, call.name);
        push("model", [
          ...message.content.filter((p) => p.text !== "").map(partToGemini),
          ...message.toolCalls.map((call, index) => {
            // Only the first of parallel calls carries a signature; Gemini 3 insists on that one.
            const signature = signatureOf(call.id) ?? (index === 0 && isGemini3OrLater(model) ? SKIP_SIGNATURE : undefined);
            return { functionCall: { name: call.name, args: parseArguments(call.arguments) }, ...(signature ? { thoughtSignature: signature } : {}) };
          }),
        ]);
        break;
      case "tool": {
        // Gemini has no call ids: a result is matched to its call by the function's name.
        const name = toolNames.get(message.toolCallId);
        if (name === undefined) throw badRequest(`The tool result for "${message.toolCallId}" does not answer any tool call in the conversation.`, "messages");
        push("user", [{ functionResponse: { name, response: functionResponseOf(message) } }]);
        break;
      }
    }
  }

  const body: Record<string, unknown> = { contents };
  const system = request.messages.filter((m) => m.role === "system").flatMap((m) => m.content.map((p) => ({ text: p.text })));
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (request.tools?.length) {
    body.tools = [
      {
        functionDeclarations: request.tools.map((t) => ({
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          // Gemini rejects an OBJECT schema without properties: a function without parameters has none.
          ...(hasProperties(t.parameters) ? { parameters: toGeminiSchema(t.parameters) } : {}),
        })),
      },
    ];
    const choice = request.toolChoice;
    if (choice !== undefined) {
      body.toolConfig = {
        functionCallingConfig:
          choice === "auto" ? { mode: "AUTO" }
          : choice === "none" ? { mode: "NONE" }
          : choice === "required" ? { mode: "ANY" }
          : { mode: "ANY", allowedFunctionNames: [choice.name] },
      };
    }
  }

  const config: Record<string, unknown> = {};
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.topK !== undefined) config.topK = request.topK;
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
  if (request.stop?.length) config.stopSequences = request.stop;
  if (request.seed !== undefined) config.seed = request.seed;
  if (request.presencePenalty !== undefined) config.presencePenalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) config.frequencyPenalty = request.frequencyPenalty;
  const thinking = request.reasoningEffort !== undefined ? thinkingConfig(request.reasoningEffort, model) : undefined;
  if (thinking) config.thinkingConfig = thinking;
  const format = request.responseFormat;
  if (format && format.type !== "text") {
    config.responseMimeType = "application/json";
    if (format.type === "json_schema") config.responseSchema = toGeminiSchema(format.schema);
  }
  if (Object.keys(config).length > 0) body.generationConfig = config;
  return body;
}

export function usageFromGemini(usage: GeminiResponse["usageMetadata"]): Partial<Usage> {
  if (!usage) return {};
  const thoughts = usage.thoughtsTokenCount ?? 0;
  return {
    promptTokens: (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0),
    // OpenAI counts reasoning inside completion tokens; Gemini reports thoughts beside the candidates.
    completionTokens: (usage.candidatesTokenCount ?? 0) + thoughts,
    cachedTokens: usage.cachedContentTokenCount ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  };
}

const FILTERED = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"]);

export function finishReasonFromGemini(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  if (reason !== undefined && FILTERED.has(reason)) return "content_filter";
  if (hasToolCalls) return "tool_calls";
  return reason === "MAX_TOKENS" ? "length" : "stop";
}

function invalidUpstream(provider: string, detail: string): GatewayError {
  return new GatewayError({ status: 502, type: "upstream_error", code: "invalid_upstream_response", provider, message: `${provider}: invalid response from upstream (${detail})` });
}


const responseIdOf = (response: GeminiResponse) => response.responseId ?? `gemini-${crypto.randomUUID()}`;

type Piece = { text: string } | { call: { name: string; arguments: string; id: string | undefined; signature: string | undefined } };

/** The answer's pieces in the first candidate: text (thought summaries left out) and function calls. */
function piecesOf(response: GeminiResponse): Piece[] {
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  const out: Piece[] = [];
  for (const part of parts) {
    if (part.functionCall) {
      const { name, args, id } = part.functionCall;
      out.push({ call: { name, arguments: JSON.stringify(args ?? {}), id, signature: part.thoughtSignature } });
    }
    else if (typeof part.text === "string" && part.thought !== true && part.text !== "") out.push({ text: part.text });
  }
  return out;
}

const fullUsage = (partial: Partial<Usage>): Usage => ({ promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, ...partial });

export function parseGeminiChatResponse(body: unknown, providerName: string, model: string): ChatResult {
  const parsed = GeminiResponseSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(providerName, parsed.error.issues[0]?.message ?? "unexpected shape");
  const response = parsed.data;
  const id = responseIdOf(response);
  const prefix = callIdPrefix(response.responseId);
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const piece of piecesOf(response)) {
    if ("text" in piece) text += piece.text;
    else toolCalls.push({ id: callId(prefix, toolCalls.length, piece.call), name: piece.call.name, arguments: piece.call.arguments });
  }
  // A blocked prompt has no candidates at all, only promptFeedback.blockReason.
  const blocked = response.promptFeedback?.blockReason !== undefined && !response.candidates?.length;
  return {
    id,
    model: response.modelVersion ?? model,
    created: Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    finishReason: blocked ? "content_filter" : finishReasonFromGemini(response.candidates?.[0]?.finishReason, toolCalls.length > 0),
    usage: fullUsage(usageFromGemini(response.usageMetadata)),
  };
}

/**
 * Gemini SSE chunks → internal events, each mapped as it arrives. Function calls arrive whole, so each becomes a
 * start and one arguments delta. `finish` is emitted when the upstream stream ends, and only if a finishReason
 * (or a prompt block) was seen: a stream cut short never looks complete.
 */
export function parseGeminiChatStream(body: ReadableStream<Uint8Array>, providerName: string, model: string): ReadableStream<StreamEvent> {
  let started = false;
  let prefix = "";
  let toolCalls = 0;
  let finishReason: string | undefined;
  let blocked = false;
  return decodeSSE(body).pipeThrough(
    new TransformStream<{ data: string }, StreamEvent>({
      transform(message, controller) {
        let json: unknown;
        try {
          json = JSON.parse(message.data);
        } catch {
          throw invalidUpstream(providerName, "a stream event is not JSON");
        }
        const error = GoogleErrorBodySchema.safeParse(json);
        if (error.success) {
          const { code, message: text, status } = error.data.error;
          throw new GatewayError({ status: code === 429 ? 429 : 502, type: "upstream_error", code: status ?? "upstream_stream_error", provider: providerName, message: `${providerName}: ${text ?? "stream error"}` });
        }
        const parsed = GeminiResponseSchema.safeParse(json);
        if (!parsed.success) throw invalidUpstream(providerName, "unexpected stream chunk");
        const chunk = parsed.data;
        if (!started) {
          started = true;
          prefix = callIdPrefix(chunk.responseId);
          controller.enqueue({ type: "start", id: responseIdOf(chunk), model: chunk.modelVersion ?? model });
        }
        for (const piece of piecesOf(chunk)) {
          if ("text" in piece) {
            controller.enqueue({ type: "text", delta: piece.text });
          } else {
            const index = toolCalls++;
            controller.enqueue({ type: "tool_call_start", index, id: callId(prefix, index, piece.call), name: piece.call.name });
            controller.enqueue({ type: "tool_call_delta", index, argumentsDelta: piece.call.arguments });
          }
        }
        const reason = chunk.candidates?.[0]?.finishReason;
        if (reason !== undefined && reason !== "FINISH_REASON_UNSPECIFIED") finishReason = reason;
        if (chunk.promptFeedback?.blockReason !== undefined && !chunk.candidates?.length) blocked = true;
        if (chunk.usageMetadata) controller.enqueue({ type: "usage", usage: usageFromGemini(chunk.usageMetadata) });
      },
      flush(controller) {
        if (blocked) controller.enqueue({ type: "finish", finishReason: "content_filter" });
        else if (finishReason !== undefined) controller.enqueue({ type: "finish", finishReason: finishReasonFromGemini(finishReason, toolCalls > 0) });
      },
    }),
  );
}

export function geminiEmbeddingsBody(request: EmbeddingsRequest, model: string): Record<string, unknown> {
  return {
    requests: request.input.map((text) => ({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      ...(request.dimensions ? { outputDimensionality: request.dimensions } : {}),
    })),
  };
}

export function parseGeminiEmbeddingsResponse(body: unknown, providerName: string, model: string): EmbeddingsResult {
  const parsed = GeminiBatchEmbedResponseSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(providerName, "unexpected embeddings shape");
  // batchEmbedContents reports no token counts: the gateway settles on its own estimate.
  return { model, vectors: parsed.data.embeddings.map((e) => e.values), usage: null };
}

const ERROR_TYPES: Record<string, string> = {
  INVALID_ARGUMENT: "invalid_request_error",
  FAILED_PRECONDITION: "invalid_request_error",
  OUT_OF_RANGE: "invalid_request_error",
  UNAUTHENTICATED: "authentication_error",
  PERMISSION_DENIED: "permission_error",
  NOT_FOUND: "not_found_error",
  RESOURCE_EXHAUSTED: "rate_limit_error",
};

/** Google's error body (`{error:{code,message,status}}`, sometimes wrapped in an array) → message and type. */
export function parseGoogleError(status: number, bodyText: string): UpstreamErrorInfo | undefined {
  try {
    const json: unknown = JSON.parse(bodyText);
    const parsed = GoogleErrorBodySchema.safeParse(Array.isArray(json) ? json[0] : json);
    if (parsed.success && parsed.data.error.message) {
      const googleStatus = parsed.data.error.status;
      return { message: parsed.data.error.message, ...(googleStatus && ERROR_TYPES[googleStatus] ? { type: ERROR_TYPES[googleStatus] } : {}), code: googleStatus ?? null };
    }
  } catch {
    // not JSON: the caller falls back to the raw text
  }
  return undefined;
}

export const parseGeminiError = (status: number, bodyText: string): UpstreamErrorInfo =>
  parseGoogleError(status, bodyText) ?? { message: bodyText.slice(0, 500) || `HTTP ${status}` };

type GeminiConfig = Extract<ProviderConfig, { type: "gemini" }>;

const modelsURL = (config: GeminiConfig) => `${config.baseURL.replace(/\/+$/, "")}/${config.apiVersion}/models`;

export const geminiAdapter: ProviderAdapter<GeminiConfig> = {
  type: "gemini",
  supports: { chat: true, stream: true, tools: true, embeddings: true, vision: true },
  async buildChatRequest(request, target) {
    const method = request.stream ? "streamGenerateContent?alt=sse" : "generateContent";
    // The key goes in a header, never the URL, so it cannot end up in logged URLs.
    const headers = { "x-goog-api-key": await target.secret(target.config.apiKey) };
    return jsonRequest(`${modelsURL(target.config)}/${modelPath(target.model)}:${method}`, headers, chatRequestToGemini(request, target.model));
  },
  parseChatResponse: (body, target) => parseGeminiChatResponse(body, target.providerName, target.model),
  parseChatStream: (body, target) => parseGeminiChatStream(body, target.providerName, target.model),
  async buildEmbeddingsRequest(request, target) {
    const headers = { "x-goog-api-key": await target.secret(target.config.apiKey) };
    return jsonRequest(`${modelsURL(target.config)}/${modelPath(target.model)}:batchEmbedContents`, headers, geminiEmbeddingsBody(request, target.model));
  },
  parseEmbeddingsResponse: (body, target) => parseGeminiEmbeddingsResponse(body, target.providerName, target.model),
  parseError: parseGeminiError,
};
