import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { AwsV4Signer } from "aws4fetch";
import { Hono } from "hono";
import { TEST_AWS_CREDENTIALS } from "../fixtures";
import { mountBedrockCustomization, type RuntimeModel } from "./bedrock-customization";
import type { SimulatorContext } from "./openai";
import { embeddingOf } from "./openai";
import { argumentsFor, countTokens, pieces, sleep, type Fault, truncateToTokens } from "./scenarios";

/**
 * An Amazon Bedrock Runtime simulator: Converse (JSON), ConverseStream (binary event stream), Titan text
 * embeddings through InvokeModel, Bedrock's error bodies (`{message}` + x-amzn-errortype). Every request must
 * carry a valid SigV4 signature: the simulator recomputes it from the credentials it knows and answers 403
 * InvalidSignatureException when it differs, as Bedrock does.
 */

/** The credentials the simulator knows (access key id → secret access key). */
const SIMULATOR_AWS_CREDENTIALS: Record<string, string> = {
  [TEST_AWS_CREDENTIALS.AWS_ACCESS_KEY_ID]: TEST_AWS_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
};

/** Bedrock treats a request whose x-amz-date is further than this from its clock as expired. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const ERROR_TYPES: Record<number, string> = {
  400: "ValidationException",
  403: "AccessDeniedException",
  404: "ResourceNotFoundException",
  408: "ModelTimeoutException",
  424: "ModelErrorException",
  429: "ThrottlingException",
  500: "InternalServerException",
  503: "ServiceUnavailableException",
};

const bedrockErrorOf: AwsErrorRenderer = (status, message, type) => bedrockError(status, message, type);

export const bedrockError = (status: number, message: string, type = ERROR_TYPES[status] ?? "InternalServerException", headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ message }), {
    status,
    headers: { "content-type": "application/json", "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...headers },
  });

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** How a service renders a refusal (Bedrock: JSON and x-amzn-errortype; S3: XML). */
export type AwsErrorRenderer = (status: number, message: string, type: string) => Response;

/**
 * Recomputes the request's SigV4 signature for `expectedService`; undefined when valid, else the service's error
 * response.
 */
export async function verifySignature(request: Request, originalUrl: string, bodyText: string, expectedService = "bedrock", bedrockError: AwsErrorRenderer = bedrockErrorOf): Promise<Response | undefined> {
  const match = AUTH.exec(request.headers.get("authorization") ?? "");
  if (!match) return bedrockError(403, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.", "IncompleteSignatureException");
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string, string];
  if (service !== expectedService) return bedrockError(403, `Credential should be scoped to correct service: '${expectedService}'.`, "SignatureDoesNotMatch");
  const secretAccessKey = SIMULATOR_AWS_CREDENTIALS[accessKeyId];
  if (!secretAccessKey) return bedrockError(403, "The security token included in the request is invalid.", "UnrecognizedClientException");
  const amzDate = request.headers.get("x-amz-date") ?? "";
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
  if (!amzDate.startsWith(date) || Number.isNaN(signedAt)) return bedrockError(403, "The request must contain a valid X-Amz-Date.", "IncompleteSignatureException");
  if (Math.abs(Date.now() - signedAt) > MAX_CLOCK_SKEW_MS) return bedrockError(403, "Signature expired.", "InvalidSignatureException");
  const names = signedHeaders.split(";");
  if (!names.includes("host") || !names.includes("x-amz-date")) return bedrockError(403, "host and x-amz-date must be signed.", "IncompleteSignatureException");
  const sessionToken = request.headers.get("x-amz-security-token");
  if (sessionToken !== null && (!names.includes("x-amz-security-token") || sessionToken !== TEST_AWS_CREDENTIALS.AWS_SESSION_TOKEN)) {
    return bedrockError(403, "The security token included in the request is invalid.", "UnrecognizedClientException");
  }
  const headers = new Headers();
  for (const name of names) if (name !== "host") headers.set(name, request.headers.get(name) ?? "");
  const signer = new AwsV4Signer({ method: request.method, url: originalUrl, headers, body: bodyText, accessKeyId, secretAccessKey, service, region, datetime: amzDate, allHeaders: true });
  if ((await signer.signature()) !== signature) {
    return bedrockError(403, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", "InvalidSignatureException");
  }
  return undefined;
}

type Block = { text?: string; image?: unknown; toolUse?: unknown; toolResult?: { content?: Block[] }; reasoningContent?: { reasoningText?: { text: string; signature?: string }; redactedContent?: string } };
type ConverseBody = {
  messages?: { role: string; content: Block[] }[];
  system?: { text: string }[];
  inferenceConfig?: { maxTokens?: number; stopSequences?: string[]; temperature?: number };
  additionalModelRequestFields?: { thinking?: { type?: string; budget_tokens?: number } };
  toolConfig?: { tools: { toolSpec: { name: string; inputSchema: { json: unknown } } }[]; toolChoice?: { auto?: object; any?: object; tool?: { name: string } } };
};

const textOf = (blocks: Block[]): string => blocks.map((b) => b.text ?? (b.toolResult ? textOf(b.toolResult.content ?? []) : "")).join(" ");

const issuedSignatures = new Set<string>();
const thinkingOn = (body: ConverseBody) => body.additionalModelRequestFields?.thinking?.type === "enabled";

/** Claude's extended thinking on Bedrock, checked as the model does (see the Anthropic simulator). */
function thinkingViolation(body: ConverseBody): string | undefined {
  const budget = body.additionalModelRequestFields?.thinking?.budget_tokens;
  const max = body.inferenceConfig?.maxTokens;
  if (typeof budget !== "number" || budget < 1024) return "The model returned the following errors: thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
  if (max === undefined || budget >= max) return "The model returned the following errors: `max_tokens` must be greater than `thinking.budget_tokens`.";
  if (body.inferenceConfig?.temperature !== undefined) return "The model returned the following errors: `temperature` may only be set to 1 when thinking is enabled.";
  if (body.toolConfig?.toolChoice?.any || body.toolConfig?.toolChoice?.tool) return "The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use.";
  const messages = body.messages ?? [];
  if (messages.at(-1)?.content.some((b) => b.toolResult)) {
    const first = messages.at(-2)?.content[0];
    const signature = first?.reasoningContent?.reasoningText?.signature;
    if (!first?.reasoningContent) return "The model returned the following errors: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.";
    if (first.reasoningContent.reasoningText && !issuedSignatures.has(signature ?? "")) return "The model returned the following errors: Invalid `signature` in `thinking` block";
  }
  return undefined;
}

/** Checks the conversation as Bedrock's validation does; a message string on failure. */
function validate(body: ConverseBody): string | undefined {
  if (!Array.isArray(body.messages) || body.messages.length === 0) return "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
  if (body.messages[0]!.role !== "user") return "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
  for (const [index, message] of body.messages.entries()) {
    if (index > 0 && body.messages[index - 1]!.role === message.role) return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";
    if (!Array.isArray(message.content) || message.content.length === 0) return `The content field in the Message object at messages.${index} is empty. Add a ContentBlock object to the content field and try again.`;
    if (message.content.some((b) => b.text === "")) return `The text field in the ContentBlock object at messages.${index}.content is blank. Add text to the text field, and try again.`;
    const hasTool = message.content.some((b) => b.toolUse || b.toolResult);
    if (hasTool && !body.toolConfig) return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
  }
  return thinkingOn(body) ? thinkingViolation(body) : undefined;
}

type Answer = {
  text: string;
  toolUse: { toolUseId: string; name: string; input: Record<string, unknown> } | undefined;
  thinking: { text: string; signature: string } | undefined;
  stopReason: string;
  usage: Record<string, number>;
};

function answer(body: ConverseBody, fault: Fault | undefined): Answer {
  const messages = body.messages!;
  const last = messages.at(-1)!;
  const lastIsToolResult = last.content.some((b) => b.toolResult);
  const tools = body.toolConfig?.tools ?? [];
  const forced = body.toolConfig?.toolChoice?.tool?.name;
  const spec = tools.length && !lastIsToolResult ? (tools.find((t) => t.toolSpec.name === forced) ?? tools[0]!).toolSpec : undefined;
  let text = spec ? "" : (fault?.text ?? (lastIsToolResult ? `The tool said: ${textOf(last.content)}` : `Hello from the simulator. You said: ${textOf(last.content)}`));
  let stopReason = spec ? "tool_use" : "end_turn";
  const max = body.inferenceConfig?.maxTokens;
  if (max !== undefined && countTokens(text) > max) {
    text = truncateToTokens(text, max);
    stopReason = "max_tokens";
  }
  const toolUse = spec ? { toolUseId: `tooluse_sim${Math.random().toString(36).slice(2, 10)}`, name: spec.name, input: argumentsFor(spec.inputSchema.json) } : undefined;
  // The simulator treats the system prompt as a cached prefix, so cache reads show up in usage.
  const systemText = (body.system ?? []).map((s) => s.text).join(" ");
  const cacheReadInputTokens = systemText ? countTokens(systemText) : 0;
  const inputTokens = messages.reduce((sum, m) => sum + countTokens(textOf(m.content) || m.role), 0);
  const thought = thinkingOn(body) ? `Let me think about: ${textOf(last.content)}` : undefined;
  const thinking = thought !== undefined ? { text: thought, signature: btoa(`sim-bedrock-signature:${crypto.randomUUID()}`) } : undefined;
  if (thinking) issuedSignatures.add(thinking.signature);
  const outputTokens = (toolUse ? countTokens(JSON.stringify(toolUse.input)) : countTokens(text)) + (thought !== undefined ? countTokens(thought) : 0);
  return {
    text,
    toolUse,
    thinking,
    stopReason,
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens + cacheReadInputTokens, cacheReadInputTokens, cacheWriteInputTokens: 0 },
  };
}

function converse(body: ConverseBody, fault: Fault | undefined): Response {
  const result = answer(body, fault);
  const content = [
    ...(result.thinking ? [{ reasoningContent: { reasoningText: result.thinking } }] : []),
    ...(result.toolUse ? [{ toolUse: result.toolUse }] : [{ text: result.text }]),
  ];
  return Response.json({ output: { message: { role: "assistant", content } }, stopReason: result.stopReason, usage: result.usage, metrics: { latencyMs: 42 } });
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const frame = (headers: Record<string, string>, payload: unknown) =>
  codec.encode({ headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { type: "string" as const, value: v }])), body: fromUtf8(JSON.stringify(payload)) });
/** Bedrock pads event payloads with a `p` field so their sizes do not reveal the content. */
const event = (type: string, payload: Record<string, unknown>) => frame({ ":event-type": type, ":content-type": "application/json", ":message-type": "event" }, { ...payload, p: "abcdefghijkl".slice(0, 1 + (type.length % 12)) });

/**
 * The frames written as a byte stream whose chunk boundaries deliberately do not match frame boundaries:
 * alternately 37 bytes (frames span chunks) and 300 bytes (one chunk holds several frames).
 */
function binaryStream(frames: Uint8Array[], fault: Fault | undefined): ReadableStream<Uint8Array> {
  const keep = fault?.dropAfterEvents !== undefined ? frames.slice(0, fault.dropAfterEvents) : frames;
  if (fault?.dropAfterEvents !== undefined && fault.drop === "exception") {
    keep.push(frame({ ":exception-type": "modelStreamErrorException", ":content-type": "application/json", ":message-type": "exception" }, { message: fault.message ?? "The model stream failed." }));
  }
  const total = keep.reduce((sum, f) => sum + f.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const f of keep) {
    bytes.set(f, offset);
    offset += f.length;
  }
  let position = 0;
  let turn = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (position >= bytes.length) {
        if (fault?.dropAfterEvents !== undefined && (fault.drop ?? "abort") === "abort") {
          await sleep(20); // let the frames already written reach the client before the connection goes
          controller.error(new Error("simulated connection drop"));
        } else controller.close();
        return;
      }
      if (fault?.chunkDelayMs && position > 0) await sleep(fault.chunkDelayMs);
      const size = turn++ % 2 === 0 ? 37 : 300;
      controller.enqueue(bytes.slice(position, position + size));
      position += size;
    },
  });
}

function converseStream(body: ConverseBody, fault: Fault | undefined): Response {
  const result = answer(body, fault);
  const frames = [event("messageStart", { role: "assistant" })];
  const index = result.thinking ? 1 : 0;
  if (result.thinking) {
    for (const piece of pieces(result.thinking.text)) frames.push(event("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { text: piece } } }));
    frames.push(event("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { signature: result.thinking.signature } } }));
    frames.push(event("contentBlockStop", { contentBlockIndex: 0 }));
  }
  if (result.toolUse) {
    frames.push(event("contentBlockStart", { contentBlockIndex: index, start: { toolUse: { toolUseId: result.toolUse.toolUseId, name: result.toolUse.name } } }));
    const json = JSON.stringify(result.toolUse.input);
    for (let i = 0; i < json.length; i += 8) frames.push(event("contentBlockDelta", { contentBlockIndex: index, delta: { toolUse: { input: json.slice(i, i + 8) } } }));
  } else {
    for (const piece of pieces(result.text)) frames.push(event("contentBlockDelta", { contentBlockIndex: index, delta: { text: piece } }));
  }
  frames.push(event("contentBlockStop", { contentBlockIndex: index }));
  frames.push(event("messageStop", { stopReason: result.stopReason }));
  frames.push(event("metadata", { usage: result.usage, metrics: { latencyMs: 42 } }));
  return new Response(binaryStream(frames, fault), { headers: { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": crypto.randomUUID() } });
}

/** Titan Text Embeddings V2: the deterministic vector of the text, unit length when `normalize` (the default). */
export function titanEmbeddingOf(text: string, dimensions = 1024, normalize = true): number[] {
  const vector = embeddingOf(text, dimensions);
  if (!normalize) return vector;
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0)) || 1;
  return vector.map((x) => x / norm);
}

function titan(body: { inputText?: unknown; dimensions?: number; normalize?: boolean }): Response {
  if (typeof body.inputText !== "string" || body.inputText === "") return bedrockError(400, "Malformed input request: #: required key [inputText] not found, please reformat your input and try again.");
  const dimensions = body.dimensions ?? 1024;
  if (![256, 512, 1024].includes(dimensions)) return bedrockError(400, `Malformed input request: #/dimensions: ${dimensions} is not a valid enum value, please reformat your input and try again.`);
  const embedding = titanEmbeddingOf(body.inputText, dimensions, body.normalize ?? true);
  return Response.json({ embedding, embeddingsByType: { float: embedding }, inputTextTokenCount: countTokens(body.inputText) });
}

export function bedrockSimulator() {
  const app = new Hono<{ Bindings: SimulatorContext }>();
  app.use("*", async (c, next) => {
    const failure = await verifySignature(c.req.raw, c.env.originalUrl, await c.req.raw.clone().text());
    if (failure) return failure;
    const fault = c.env.fault;
    if (fault?.status) return bedrockError(fault.status, fault.message ?? `Simulated error ${fault.status}`, undefined, fault.headers);
    await next();
  });
  // Custom models: callable through a deployment or Provisioned Throughput, never by their own ARN.
  const runtime = new Map<string, RuntimeModel>();
  mountBedrockCustomization(app, runtime);
  const converseRoute = (streamed: boolean) => async (c: { req: { json: <T>() => Promise<T>; param: (name: string) => string }; env: SimulatorContext }) => {
    const modelId = c.req.param("modelId");
    if (modelId.startsWith("arn:")) {
      const model = runtime.get(modelId);
      if (!model) return bedrockError(404, `The model ${modelId} does not exist.`, "ResourceNotFoundException");
      if ("refusal" in model) return bedrockError(400, `Invocation of model ID ${modelId} with on-demand throughput isn't supported. Retry your request with the ID or ARN of a custom model deployment or of a provisioned model.`);
    }
    const body = await c.req.json<ConverseBody>();
    const invalid = validate(body);
    if (invalid) return bedrockError(400, invalid);
    return streamed ? converseStream(body, c.env.fault) : converse(body, c.env.fault);
  };
  app.post("/model/:modelId/converse", converseRoute(false));
  app.post("/model/:modelId/converse-stream", converseRoute(true));
  app.post("/model/:modelId/invoke", async (c) => {
    const modelId = c.req.param("modelId");
    if (!modelId.startsWith("amazon.titan-embed-text")) return bedrockError(400, `The simulator only serves Titan text embeddings through InvokeModel, not ${modelId}.`);
    return titan(await c.req.json());
  });
  return app;
}
