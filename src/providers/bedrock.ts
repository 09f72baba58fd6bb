import { AwsClient } from "aws4fetch";
import type * as z from "zod";
import type { ProviderConfig } from "../config/schema";
import { GatewayError, badRequest } from "../lib/errors";
import { decodeEventStream, frameJson, type EventStreamFrame } from "../lib/event-stream";
import { randomId } from "../lib/ids";
import {
  BedrockConverseResponseSchema,
  BedrockErrorBodySchema,
  BedrockStreamEventSchemas,
  TitanEmbeddingResponseSchema,
  type BedrockUsageSchema,
} from "../schema/bedrock";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, EmbeddingsResult, FinishReason, StreamEvent, ToolCall, Usage } from "../schema/internal";
import { jsonInstruction } from "./anthropic";
import type { ProviderAdapter, UpstreamErrorInfo, UpstreamTarget } from "./types";
import { parseToolArguments } from "../lib/tool-arguments";
import { alternatingTurns } from "./turns";

/**
 * Amazon Bedrock through its model-agnostic Converse / ConverseStream APIs (one translation for Claude, Nova,
 * Llama, Mistral, ... on Bedrock), SigV4-signed with aws4fetch; embeddings through Titan Text Embeddings
 * (InvokeModel, one input per call).
 */

type BedrockConfig = Extract<ProviderConfig, { type: "bedrock" }>;
type BedrockUsage = z.infer<typeof BedrockUsageSchema>;
type Block = Record<string, unknown>;

/** SigV4 signs for the service name in the credential scope, which is `bedrock` for the runtime endpoint too. */
const SIGNING_SERVICE = "bedrock";

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

function invalidUpstream(provider: string, detail: string): GatewayError {
  return new GatewayError({ status: 502, type: "upstream_error", code: "invalid_upstream_response", provider, message: `${provider}: invalid response from upstream (${detail})` });
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

/** An `exception` or `error` frame: the stream failed after the response headers. */
function streamFailure(frame: EventStreamFrame, provider: string): GatewayError {
  const type = frame.headers[":exception-type"] ?? frame.headers[":error-code"] ?? "streamError";
  let message = frame.headers[":error-message"];
  if (message === undefined) {
    const body = BedrockErrorBodySchema.safeParse(frameJson(frame, provider));
    message = body.success ? body.data.message : "stream error";
  }
  const status = type === "throttlingException" ? 429 : type === "validationException" ? 400 : 502;
  return new GatewayError({ status, type: "upstream_error", code: type, provider, message: `${provider}: ${message}` });
}

/**
 * ConverseStream frames → internal events, as frames arrive. `metadata` (the usage) follows `messageStop`, so
 * the finish is held until it came, or until the stream ends cleanly after messageStop.
 */
function converseEventsToInternal(target: UpstreamTarget): TransformStream<EventStreamFrame, StreamEvent> {
  const provider = target.providerName;
  const toolIndexByBlock = new Map<number, number>();
  let finish: Extract<StreamEvent, { type: "finish" }> | undefined;
  let finished = false;
  const parse = <K extends keyof typeof BedrockStreamEventSchemas>(kind: K, frame: EventStreamFrame): z.infer<(typeof BedrockStreamEventSchemas)[K]> => {
    const parsed = BedrockStreamEventSchemas[kind].safeParse(frameJson(frame, provider));
    if (!parsed.success) throw invalidUpstream(provider, `unexpected ${kind} event`);
    return parsed.data as z.infer<(typeof BedrockStreamEventSchemas)[K]>;
  };
  return new TransformStream({
    transform(frame, controller) {
      const messageType = frame.headers[":message-type"];
      if (messageType === "exception" || messageType === "error") throw streamFailure(frame, provider);
      switch (frame.headers[":event-type"]) {
        case "messageStart":
          parse("messageStart", frame);
          controller.enqueue({ type: "start", id: randomId("bedrock-", 20), model: target.model });
          break;
        case "contentBlockStart": {
          const event = parse("contentBlockStart", frame);
          const toolUse = event.start?.toolUse;
          if (toolUse) {
            const index = toolIndexByBlock.size;
            toolIndexByBlock.set(event.contentBlockIndex, index);
            controller.enqueue({ type: "tool_call_start", index, id: toolUse.toolUseId, name: toolUse.name });
          }
          break;
        }
        case "contentBlockDelta": {
          const event = parse("contentBlockDelta", frame);
          if (event.delta.text) controller.enqueue({ type: "text", delta: event.delta.text });
          const index = toolIndexByBlock.get(event.contentBlockIndex);
          if (event.delta.toolUse?.input && index !== undefined) controller.enqueue({ type: "tool_call_delta", index, argumentsDelta: event.delta.toolUse.input });
          break;
        }
        case "messageStop": {
          const event = parse("messageStop", frame);
          const stopSequence = event.additionalModelResponseFields?.stop_sequence;
          finish = { type: "finish", finishReason: finishReasonFromBedrock(event.stopReason), ...(stopSequence ? { stopSequence } : {}) };
          break;
        }
        case "metadata": {
          const event = parse("metadata", frame);
          controller.enqueue({ type: "usage", usage: usageFromBedrock(event.usage) });
          if (finish && !finished) {
            finished = true;
            controller.enqueue(finish);
          }
          break;
        }
        default:
          break; // contentBlockStop and event types added later carry nothing the gateway needs
      }
    },
    flush(controller) {
      if (finish && !finished) controller.enqueue(finish);
    },
  });
}

export function parseTitanEmbeddings(body: unknown, target: UpstreamTarget): EmbeddingsResult {
  const bodies = Array.isArray(body) ? body : [body];
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const item of bodies) {
    const parsed = TitanEmbeddingResponseSchema.safeParse(item);
    if (!parsed.success) throw invalidUpstream(target.providerName, "unexpected embeddings shape");
    vectors.push(parsed.data.embedding);
    promptTokens += parsed.data.inputTextTokenCount;
  }
  return { model: target.model, vectors, usage: { promptTokens } };
}

export function parseBedrockError(status: number, bodyText: string, headers?: Headers): UpstreamErrorInfo {
  // x-amzn-errortype: "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
  const errorType = headers?.get("x-amzn-errortype")?.split(":")[0] || undefined;
  let message: string | undefined;
  try {
    const parsed = BedrockErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) message = parsed.data.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  message ??= bodyText.slice(0, 500) || `HTTP ${status}`;
  return { message: errorType ? `${errorType}: ${message}` : message, code: errorType ?? null };
}

const endpointOf = (config: BedrockConfig) => (config.baseURL ?? `https://bedrock-runtime.${config.region}.amazonaws.com`).replace(/\/+$/, "");

/** Model ids hold `:` (and inference-profile ARNs `/`), so the id is one encoded path segment. */
const modelPath = (model: string, action: string) => `/model/${encodeURIComponent(model)}/${action}`;

async function signedRequest(target: UpstreamTarget<BedrockConfig>, path: string, body: unknown, accept: string): Promise<Request> {
  const { config } = target;
  const client = new AwsClient({
    accessKeyId: await target.secret(config.accessKeyId),
    secretAccessKey: await target.secret(config.secretAccessKey),
    ...(config.sessionToken ? { sessionToken: await target.secret(config.sessionToken) } : {}),
    service: SIGNING_SERVICE,
    region: config.region,
    retries: 0,
  });
  return client.sign(`${endpointOf(config)}${path}`, { method: "POST", headers: { "content-type": "application/json", accept }, body: JSON.stringify(body) });
}

export const bedrockAdapter: ProviderAdapter<BedrockConfig> = {
  type: "bedrock",
  supports: { chat: true, stream: true, tools: true, embeddings: true, vision: true },
  buildChatRequest: (request, target) =>
    request.stream
      ? signedRequest(target, modelPath(target.model, "converse-stream"), chatRequestToConverse(request), "application/vnd.amazon.eventstream")
      : signedRequest(target, modelPath(target.model, "converse"), chatRequestToConverse(request), "application/json"),
  parseChatResponse: parseConverseResponse,
  parseChatStream: (body, target) => body.pipeThrough(decodeEventStream(target.providerName)).pipeThrough(converseEventsToInternal(target)),
  async buildEmbeddingsRequest(request, target) {
    if (!target.model.startsWith("amazon.titan-embed")) {
      throw badRequest(`Bedrock embeddings go through Titan Text Embeddings (amazon.titan-embed-text-v2:0), not ${target.model}.`, "model", "unsupported_model");
    }
    // Titan embeds one text per InvokeModel call.
    return Promise.all(
      request.input.map((inputText) =>
        signedRequest(target, modelPath(target.model, "invoke"), { inputText, normalize: true, ...(request.dimensions ? { dimensions: request.dimensions } : {}) }, "application/json"),
      ),
    );
  },
  parseEmbeddingsResponse: parseTitanEmbeddings,
  parseError: parseBedrockError,
};
