import type * as z from "zod";
import { badRequest } from "../../lib/errors";
import { randomId } from "../../lib/ids";
import { parseToolArguments } from "../../lib/tool-arguments";
import { BedrockConverseResponseSchema, type BedrockUsageSchema } from "../../schema/bedrock";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason, ToolCall, Usage } from "../../schema/internal";
import { jsonInstruction } from "../anthropic/chat";
import { invalidUpstream } from "../http";
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

function blocksOf(message: Exclude<ChatMessage, { role: "system" }>): Block[] {
  switch (message.role) {
    case "user":
      return blocksOfParts(message.content);
    case "assistant":
      return [
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

export function chatRequestToConverse(request: ChatRequest): Record<string, unknown> {
  const system = request.messages.filter((m) => m.role === "system").flatMap((m) => m.content.filter((p) => p.text !== "").map((p) => ({ text: p.text })));
  const instruction = jsonInstruction(request);
  if (instruction) system.push({ text: instruction });

  const messages = alternatingTurns(request.messages, blocksOf);
  const hasToolBlocks = messages.some((m) => m.content.some((b) => "toolUse" in b || "toolResult" in b));

  const inferenceConfig: Record<string, unknown> = {};
  if (request.maxTokens !== undefined) inferenceConfig.maxTokens = request.maxTokens;
  if (request.temperature !== undefined) inferenceConfig.temperature = Math.min(request.temperature, 1);
  if (request.topP !== undefined) inferenceConfig.topP = request.topP;
  if (request.stop?.length) inferenceConfig.stopSequences = request.stop;

  const body: Record<string, unknown> = { messages };
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
  for (const block of response.output.message.content) {
    if (block.text !== undefined) text += block.text;
    if (block.toolUse) toolCalls.push({ id: block.toolUse.toolUseId, name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) });
  }
  const stopSequence = response.additionalModelResponseFields?.stop_sequence;
  return {
    id: randomId("bedrock-", 20),
    model: target.model,
    created: Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    finishReason: finishReasonFromBedrock(response.stopReason),
    ...(stopSequence ? { stopSequence } : {}),
    usage: usageFromBedrock(response.usage),
  };
}
