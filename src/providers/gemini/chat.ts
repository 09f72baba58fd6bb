import { badRequest } from "../../lib/errors";
import { parseToolArguments } from "../../lib/tool-arguments";
import { GeminiResponseSchema, type GeminiResponse } from "../../schema/gemini";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason, ToolCall, Usage } from "../../schema/internal";
import { invalidUpstream } from "../http";
import { SKIP_SIGNATURE, callId, callIdPrefix, isGemini3OrLater, signatureOf } from "./call-ids";
import { hasProperties, toGeminiSchema } from "./tool-schema";

/**
 * The Gemini wire format for chat (generateContent; streamGenerateContent in stream.ts). The translation is
 * shared with Vertex AI's Gemini models.
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

/** A model name as a path segment (Vertex's `claude-…@20250929` keeps its `@`). */
export const modelPath = (model: string) => encodeURIComponent(model).replace(/%40/g, "@");

const THINKING_BUDGET = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 32768, max: 32768 } as const;

/**
 * Gemini 3 takes a thinking level, 2.5 a token budget (Flash up to 24576 and may turn thinking off; Pro up to 32768,
 * never below 128); earlier models refuse any thinking config.
 */
function thinkingConfig(effort: NonNullable<ChatRequest["reasoningEffort"]>, model: string): Record<string, unknown> | undefined {
  if (isGemini3OrLater(model)) return { thinkingLevel: effort === "none" || effort === "minimal" || effort === "low" ? "low" : "high" };
  if (!model.startsWith("gemini-2.5")) return undefined;
  const pro = model.startsWith("gemini-2.5-pro");
  return { thinkingBudget: pro ? Math.max(128, THINKING_BUDGET[effort]) : Math.min(24576, THINKING_BUDGET[effort]) };
}
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
export const responseIdOf = (response: GeminiResponse) => response.responseId ?? `gemini-${crypto.randomUUID()}`;

type Piece = { text: string } | { call: { name: string; arguments: string; id: string | undefined; signature: string | undefined } };

/** The answer's pieces in the first candidate: text (thought summaries left out) and function calls. */
export function piecesOf(response: GeminiResponse): Piece[] {
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
