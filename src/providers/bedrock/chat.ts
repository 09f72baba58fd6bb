import type * as z from "zod";
import { badRequest } from "../../lib/errors";
import { randomId } from "../../lib/ids";
import { parseToolArguments } from "../../lib/tool-arguments";
import { BedrockConverseResponseSchema, type BedrockUsageSchema } from "../../schema/bedrock";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason, ReasoningBlock, ToolCall, Usage } from "../../schema/internal";
import { jsonInstruction } from "../anthropic/chat";
import { invalidUpstream } from "../http";
import { claudeThinking } from "../reasoning";
import { alternatingTurns } from "../turns";
import type { UpstreamTarget } from "../types";

/**
 * Amazon Bedrock's model-agnostic Converse API: one translation for Claude, Nova, Llama, Mistral, ... on Bedrock.
 */

type BedrockUsage = z.infer<typeof BedrockUsageSchema>;
type Block = Record<string, unknown>;

const IMAGE_FORMATS: Record<string, string> = { "image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp" };

function partToBedrock(part: ContentPart): Block | undefined {
  if (part.type === "text") return part.text === "" ? undefined : { text: part.text };
  if (part.source.kind === "url") {
    throw badRequest("Bedrock takes images inline only: send them as base64 data URLs (data:image/png;base64,...).", "messages", "unsupported_image_source");
  }
  const format = IMAGE_FORMATS[part.source.mediaType.toLowerCase()];
  if (!format) throw badRequest(`Bedrock does not accept images of type ${part.source.mediaType} (png, jpeg, gif, webp).`, "messages", "unsupported_image_type");
  return { image: { format, source: { bytes: part.source.data } } };
}

const blocksOfParts = (parts: readonly ContentPart[]): Block[] => parts.map(partToBedrock).filter((b): b is Block => b !== undefined);

/** Claude's signed thinking as Converse reasoning blocks (other providers' reasoning cannot go back). */
const reasoningBlocksOf = (reasoning: readonly ReasoningBlock[] | undefined): Block[] =>
  (reasoning ?? []).flatMap((block): Block[] =>
    block.type === "redacted"
      ? [{ reasoningContent: { redactedContent: block.data } }]
      : block.signature !== undefined
        ? [{ reasoningContent: { reasoningText: { text: block.text, signature: block.signature } } }]
        : [],
  );

function blocksOf(message: Exclude<ChatMessage, { role: "system" }>, thinking: boolean): Block[] {
  switch (message.role) {
    case "user":
      return blocksOfParts(message.content);
    case "assistant":
      return [
        ...(thinking ? reasoningBlocksOf(message.reasoning) : []),
        ...blocksOfParts(message.content),
        ...message.toolCalls.map((call) => ({ toolUse: { toolUseId: call.id, name: call.name, input: parseToolArguments(call.arguments) } })),
      ];
    case "tool": {
      const content = blocksOfParts(message.content);
      return [{ toolResult: { toolUseId: message.toolCallId, content: content.length > 0 ? content : [{ text: "" }], status: message.isError ? "error" : "success" } }];
    }
  }
}

function toolConfigOf(request: ChatRequest, hasToolBlocks: boolean): Block | undefined {
  if (!request.tools?.length) return undefined;
  // Converse has no "none": leave the tools out, unless the history holds tool blocks, which need toolConfig.
  if (request.toolChoice === "none" && !hasToolBlocks) return undefined;
  const tools = request.tools.map((t) => ({ toolSpec: { name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: { json: t.parameters } } }));
  const choice = request.toolChoice;
  const toolChoice = choice === "auto" ? { auto: {} } : choice === "required" ? { any: {} } : typeof choice === "object" ? { tool: { name: choice.name } } : undefined;
  return { tools, ...(toolChoice ? { toolChoice } : {}) };
}

/** Bedrock's Claude models (`anthropic.claude-…`, or an inference profile such as `us.anthropic.claude-…`). */
const isClaude = (model: string) => /(^|\.)anthropic\.claude/.test(model);

/** Converse requires maxTokens with Claude's thinking; without a client limit the budget is added to this. */
const DEFAULT_CLAUDE_MAX_TOKENS = 4096;

export function chatRequestToConverse(request: ChatRequest, model: string): Record<string, unknown> {
  const system = request.messages.filter((m) => m.role === "system").flatMap((m) => m.content.filter((p) => p.text !== "").map((p) => ({ text: p.text })));
  const instruction = jsonInstruction(request);
  if (instruction) system.push({ text: instruction });

  // Reasoning effort reaches Claude as extended thinking (model-specific, so through additionalModelRequestFields);
  // other Bedrock models take no effort through Converse.
  const thinking = isClaude(model) ? claudeThinking(request, DEFAULT_CLAUDE_MAX_TOKENS) : undefined;
  const messages = alternatingTurns(request.messages, (message) => blocksOf(message, thinking !== undefined));
  const hasToolBlocks = messages.some((m) => m.content.some((b) => "toolUse" in b || "toolResult" in b));

  const inferenceConfig: Record<string, unknown> = {};
  const maxTokens = thinking?.maxTokens ?? request.maxTokens;
  if (maxTokens !== undefined) inferenceConfig.maxTokens = maxTokens;
  if (request.temperature !== undefined && !thinking) inferenceConfig.temperature = Math.min(request.temperature, 1);
  if (request.topP !== undefined && (!thinking || request.topP >= 0.95)) inferenceConfig.topP = request.topP;
  if (request.stop?.length) inferenceConfig.stopSequences = request.stop;

  const body: Record<string, unknown> = { messages };
  if (thinking) body.additionalModelRequestFields = { thinking: { type: "enabled", budget_tokens: thinking.budgetTokens } };
  if (system.length > 0) body.system = system;
  if (Object.keys(inferenceConfig).length > 0) body.inferenceConfig = inferenceConfig;
  const toolConfig = toolConfigOf(request, hasToolBlocks);
  if (toolConfig) body.toolConfig = toolConfig;
  return body;
}

export function finishReasonFromBedrock(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "tool_use":
      return "tool_calls";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "content_filtered":
    case "guardrail_intervened":
      return "content_filter";
    default:
      return "stop";
  }
}

/** Bedrock's inputTokens leave out the cached part; the internal promptTokens count every prompt token. */
export function usageFromBedrock(usage: BedrockUsage | null | undefined): Usage {
  const cacheRead = usage?.cacheReadInputTokens ?? 0;
  const cacheWrite = usage?.cacheWriteInputTokens ?? 0;
  return {
    promptTokens: (usage?.inputTokens ?? 0) + cacheRead + cacheWrite,
    completionTokens: usage?.outputTokens ?? 0,
    cachedTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
  };
}

export function parseConverseResponse(body: unknown, target: UpstreamTarget): ChatResult {
  const parsed = BedrockConverseResponseSchema.safeParse(body);
  if (!parsed.success) throw invalidUpstream(target.providerName, parsed.error.issues[0]?.message ?? "unexpected shape");
  const response = parsed.data;
  let text = "";
  const toolCalls: ToolCall[] = [];
  const reasoning: ReasoningBlock[] = [];
  for (const block of response.output.message.content) {
    if (block.text !== undefined) text += block.text;
    const thought = block.reasoningContent;
    if (thought?.reasoningText) reasoning.push({ type: "thinking", text: thought.reasoningText.text, ...(thought.reasoningText.signature ? { signature: thought.reasoningText.signature } : {}) });
    if (thought?.redactedContent) reasoning.push({ type: "redacted", data: thought.redactedContent });
    if (block.toolUse) toolCalls.push({ id: block.toolUse.toolUseId, name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) });
  }
  const stopSequence = response.additionalModelResponseFields?.stop_sequence;
  return {
    id: randomId("bedrock-", 20),
    model: target.model,
    created: Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    ...(reasoning.length > 0 ? { reasoning } : {}),
    finishReason: finishReasonFromBedrock(response.stopReason),
    ...(stopSequence ? { stopSequence } : {}),
    usage: usageFromBedrock(response.usage),
  };
}
