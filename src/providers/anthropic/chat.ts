import type * as z from "zod";
import { parseToolArguments } from "../../lib/tool-arguments";
import { AnthropicMessageResponseSchema, type AnthropicUsageSchema } from "../../schema/anthropic";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason, ReasoningBlock, ToolCall, Usage } from "../../schema/internal";
import { invalidUpstream } from "../http";
import { claudeThinking } from "../reasoning";
import { alternatingTurns } from "../turns";

/**
 * The Anthropic Messages wire format. The translation functions are shared with Vertex AI's and Bedrock's
 * Claude paths.
 */

type AnthropicUsage = z.infer<typeof AnthropicUsageSchema>;
type AnthropicBlock = Record<string, unknown>;

/** Anthropic requires max_tokens; OpenAI-shaped requests may omit it. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

const partToAnthropic = (part: ContentPart): AnthropicBlock =>
  part.type === "text"
    ? { type: "text", text: part.text }
    : {
        type: "image",
        source: part.source.kind === "url" ? { type: "url", url: part.source.url } : { type: "base64", media_type: part.source.mediaType, data: part.source.data },
      };

/** Signed thinking goes back with its turn; unsigned reasoning (another provider's) cannot. */
export function reasoningBlocksOf(reasoning: readonly ReasoningBlock[] | undefined): AnthropicBlock[] {
  return (reasoning ?? []).flatMap((block): AnthropicBlock[] =>
    block.type === "redacted" ? [{ type: "redacted_thinking", data: block.data }] : block.signature !== undefined ? [{ type: "thinking", thinking: block.text, signature: block.signature }] : [],
  );
}

function blocksOf(message: Exclude<ChatMessage, { role: "system" }>, thinking: boolean): AnthropicBlock[] {
  switch (message.role) {
    case "user":
      return message.content.map(partToAnthropic);
    case "assistant":
      return [
        // Thinking blocks come first in their turn, and only while thinking is on.
        ...(thinking ? reasoningBlocksOf(message.reasoning) : []),
        ...message.content.filter((p) => p.text !== "").map(partToAnthropic),
        ...message.toolCalls.map((call) => ({ type: "tool_use", id: call.id, name: call.name, input: parseToolArguments(call.arguments) })),
      ];
    case "tool":
      return [
        {
          type: "tool_result",
          tool_use_id: message.toolCallId,
          content: message.content.map(partToAnthropic),
          ...(message.isError ? { is_error: true } : {}),
        },
      ];
  }
}

export function jsonInstruction(request: ChatRequest): string | undefined {
  const format = request.responseFormat;
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return "Respond with a single JSON object and nothing else.";
  return `Respond with a single JSON object and nothing else, matching this JSON Schema (${format.name}): ${JSON.stringify(format.schema)}`;
}

export function chatRequestToAnthropic(request: ChatRequest, model: string | undefined): Record<string, unknown> {
  const systemText = request.messages
    .filter((m) => m.role === "system")
    .flatMap((m) => m.content.map((p) => p.text));
  const instruction = jsonInstruction(request);
  if (instruction) systemText.push(instruction);

  const thinking = claudeThinking(request, DEFAULT_ANTHROPIC_MAX_TOKENS);
  const messages = alternatingTurns(request.messages, (message) => blocksOf(message, thinking !== undefined));

  const body: Record<string, unknown> = { messages, max_tokens: thinking?.maxTokens ?? request.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS };
  if (model !== undefined) body.model = model;
  if (systemText.length > 0) body.system = systemText.join("\n\n");
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: t.parameters }));
  }
  const disableParallel = request.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  if (request.toolChoice !== undefined && request.tools?.length) {
    const choice = request.toolChoice;
    body.tool_choice =
      choice === "auto" ? { type: "auto", ...disableParallel }
      : choice === "required" ? { type: "any", ...disableParallel }
      : choice === "none" ? { type: "none" }
      : { type: "tool", name: choice.name, ...disableParallel };
  } else if (request.parallelToolCalls === false && request.tools?.length) {
    body.tool_choice = { type: "auto", disable_parallel_tool_use: true };
  }
  if (thinking) {
    // Claude takes no temperature or top_k with thinking on, and top_p only from 0.95.
    body.thinking = { type: "enabled", budget_tokens: thinking.budgetTokens };
    if (request.topP !== undefined && request.topP >= 0.95) body.top_p = request.topP;
  } else {
    if (request.temperature !== undefined) body.temperature = Math.min(request.temperature, 1);
    if (request.topP !== undefined) body.top_p = request.topP;
    if (request.topK !== undefined) body.top_k = request.topK;
  }
  if (request.stop?.length) body.stop_sequences = request.stop;
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.stream) body.stream = true;
  return body;
}

export function usageFromAnthropic(usage: AnthropicUsage | null | undefined): Partial<Usage> {
  const out: Partial<Usage> = {};
  if (!usage) return out;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  if (usage.input_tokens !== null && usage.input_tokens !== undefined) {
    out.promptTokens = usage.input_tokens + cacheRead + cacheWrite;
    out.cachedTokens = cacheRead;
    out.cacheWriteTokens = cacheWrite;
  }
  if (usage.output_tokens !== null && usage.output_tokens !== undefined) out.completionTokens = usage.output_tokens;
  return out;
}

export function finishReasonFromAnthropic(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

export function parseAnthropicChatResponse(body: unknown, providerName: string): ChatResult {
  const parsed = AnthropicMessageResponseSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(providerName, parsed.error.issues[0]?.message ?? "unexpected shape");
  const response = parsed.data;
  let text = "";
  const toolCalls: ToolCall[] = [];
  const reasoning: ReasoningBlock[] = [];
  for (const block of response.content) {
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    if (block.type === "thinking" && typeof block.thinking === "string") reasoning.push({ type: "thinking", text: block.thinking, ...(typeof block.signature === "string" ? { signature: block.signature } : {}) });
    if (block.type === "redacted_thinking" && typeof block.data === "string") reasoning.push({ type: "redacted", data: block.data });
    if (block.type === "tool_use" && typeof block.id === "string" && typeof block.name === "string") {
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
    }
  }
  return {
    id: response.id,
    model: response.model,
    created: Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    ...(reasoning.length > 0 ? { reasoning } : {}),
    finishReason: finishReasonFromAnthropic(response.stop_reason),
    ...(response.stop_sequence ? { stopSequence: response.stop_sequence } : {}),
    usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, ...usageFromAnthropic(response.usage) },
  };
}
