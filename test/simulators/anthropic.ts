import { Hono } from "hono";
import { MessageBatchBook } from "./batches";
import type { SimulatorContext } from "./openai";
import { SSE_RESPONSE_HEADERS, argumentsFor, countTokens, eventStream, pieces, rawErrorBody, truncateToTokens } from "./scenarios";

/**
 * An Anthropic Messages API simulator: JSON and the exact SSE event sequence (message_start, content blocks,
 * ping, message_delta with usage, message_stop), tool_use, and Anthropic's error bodies.
 *
 * Extended thinking (`thinking: { type: "enabled", budget_tokens }`) answers with a signed thinking block first and
 * checks what Claude checks: a budget of at least 1024 below max_tokens, no temperature or top_k, no forced tool
 * choice, and — when the conversation continues a tool-use turn — that turn starting with a thinking block the
 * simulator signed.
 */

type Block = { type: string; text?: string; content?: unknown; thinking?: string; signature?: string };
export type MessagesBody = {
  model?: string;
  max_tokens?: number;
  thinking?: { type: string; budget_tokens?: number };
  temperature?: number;
  top_k?: number;
  system?: unknown;
  messages?: { role: string; content: string | Block[] }[];
  tools?: { name: string; input_schema?: unknown }[];
  tool_choice?: { type: string; name?: string };
  stream?: boolean;
};

const ERROR_TYPES: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error" };

export const anthropicError = (status: number, message: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: "error", error: { type: ERROR_TYPES[status] ?? "api_error", message } }), { status, headers: { "content-type": "application/json", ...headers } });

const textOf = (content: string | Block[] | unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((b: Block) => (b.type === "text" ? (b.text ?? "") : b.type === "tool_result" ? textOf(b.content) : "")).join(" ")
      : "";

const issuedSignatures = new Set<string>();

function signThinking(thinking: string): string {
  const signature = btoa(`sim-signature:${crypto.randomUUID()}:${thinking.length}`);
  issuedSignatures.add(signature);
  return signature;
}

/** Claude's checks on a request with extended thinking; an error message, or undefined when it may proceed. */
function thinkingViolation(body: MessagesBody & { max_tokens: number; messages: NonNullable<MessagesBody["messages"]> }, lastIsToolResult: boolean): string | undefined {
  const budget = body.thinking?.budget_tokens;
  if (typeof budget !== "number" || budget < 1024) return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
  if (budget >= body.max_tokens) return "`max_tokens` must be greater than `thinking.budget_tokens`.";
  if (body.temperature !== undefined && body.temperature !== 1) return "`temperature` may only be set to 1 when thinking is enabled.";
  if (body.top_k !== undefined) return "`top_k` may not be set when thinking is enabled.";
  if (body.tool_choice?.type === "any" || body.tool_choice?.type === "tool") return "Thinking may not be enabled when tool_choice forces tool use.";
  if (lastIsToolResult) {
    const index = body.messages.length - 2;
    const turn = body.messages[index];
    const first = Array.isArray(turn?.content) ? turn.content[0] : undefined;
    if (first?.type !== "thinking" && first?.type !== "redacted_thinking") {
      return `messages.${index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first?.type ?? "text"}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`;
    }
    if (first.type === "thinking" && !issuedSignatures.has(first.signature ?? "")) return `messages.${index}.content.0: Invalid \`signature\` in \`thinking\` block`;
  }
  return undefined;
}

export function messages(body: MessagesBody, ctx: SimulatorContext): Response {
  if (typeof body.max_tokens !== "number") return anthropicError(400, "max_tokens: Field required");
  if (!Array.isArray(body.messages) || body.messages.length === 0) return anthropicError(400, "messages: at least one message is required");
  const last = body.messages.at(-1)!;
  const lastIsToolResult = Array.isArray(last.content) && last.content.some((b) => b.type === "tool_result");
  const thinkingOn = body.thinking?.type === "enabled";
  if (thinkingOn) {
    const violation = thinkingViolation({ ...body, max_tokens: body.max_tokens, messages: body.messages }, lastIsToolResult);
    if (violation) return anthropicError(400, violation);
  }
  const tool = body.tools?.length && body.tool_choice?.type !== "none" && !lastIsToolResult ? (body.tools.find((t) => t.name === body.tool_choice?.name) ?? body.tools[0]!) : undefined;
  const fault = ctx.fault;
  let text = tool ? "" : fault?.text ?? (lastIsToolResult ? `The tool said: ${textOf(last.content)}` : `Hello from the simulator. You said: ${textOf(last.content)}`);
  let stopReason = tool ? "tool_use" : "end_turn";
  if (countTokens(text) > body.max_tokens) {
    text = truncateToTokens(text, body.max_tokens);
    stopReason = "max_tokens";
  }
  const id = `msg_sim${Math.random().toString(36).slice(2, 12)}`;
  const model = body.model ?? "claude-sonnet-4-5";
  const inputTokens = countTokens(textOf(body.system) + body.messages.map((m) => textOf(m.content)).join(" "));
  const toolUse = tool ? { type: "tool_use", id: `toolu_sim${id.slice(-6)}`, name: tool.name, input: argumentsFor(tool.input_schema) } : undefined;
  const thought = thinkingOn ? `Let me think about: ${textOf(last.content)}` : undefined;
  const thinkingBlock = thought !== undefined ? { type: "thinking", thinking: thought, signature: signThinking(thought) } : undefined;
  const outputTokens = (toolUse ? countTokens(JSON.stringify(toolUse.input)) : countTokens(text)) + (thought !== undefined ? countTokens(thought) : 0);

  if (!body.stream) {
    return Response.json({
      id,
      type: "message",
      role: "assistant",
      model,
      content: [...(thinkingBlock ? [thinkingBlock] : []), ...(toolUse ? [toolUse] : [{ type: "text", text }])],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  }

  const event = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const events = [
    event("message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } } }),
  ];
  const index = thinkingBlock ? 1 : 0;
  if (thinkingBlock) {
    events.push(event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } }));
    for (const piece of pieces(thinkingBlock.thinking)) events.push(event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: piece } }));
    events.push(event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: thinkingBlock.signature } }));
    events.push(event("content_block_stop", { type: "content_block_stop", index: 0 }));
  }
  if (toolUse) {
    events.push(event("content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: toolUse.id, name: toolUse.name, input: {} } }));
    events.push(event("ping", { type: "ping" }));
    const json = JSON.stringify(toolUse.input);
    for (let i = 0; i < json.length; i += 8) events.push(event("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: json.slice(i, i + 8) } }));
  } else {
    events.push(event("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }));
    events.push(event("ping", { type: "ping" }));
    for (const piece of pieces(text)) events.push(event("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } }));
  }
  events.push(event("content_block_stop", { type: "content_block_stop", index }));
  events.push(event("message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } }));
  events.push(event("message_stop", { type: "message_stop" }));
  const errorEvent = (message: string) => event("error", { type: "error", error: { type: "api_error", message } });
  return new Response(eventStream(events, fault, errorEvent), { headers: SSE_RESPONSE_HEADERS });
}

export function anthropicSimulator() {
  const app = new Hono<{ Bindings: SimulatorContext }>();
  app.use("*", async (c, next) => {
    if (!c.env.validKey(c.req.header("x-api-key") ?? "")) return anthropicError(401, "invalid x-api-key");
    if (!c.req.header("anthropic-version")) return anthropicError(400, "anthropic-version: header is required");
    const fault = c.env.fault;
    if (fault?.status) return rawErrorBody(fault) ?? anthropicError(fault.status, fault.message ?? `Simulated error ${fault.status}`, fault.headers);
    await next();
  });
  app.post("/v1/messages", async (c) => messages(await c.req.json<MessagesBody>(), c.env));

  // Message Batches: each read advances a batch (in_progress → ended); results are JSONL, one per custom_id.
  const book = new MessageBatchBook();
  const noFault: SimulatorContext = { fault: undefined, validKey: () => true, originalUrl: "" };
  const run = async (_url: string, params: Record<string, unknown>) => {
    const response = messages(params as MessagesBody, noFault);
    return { status: response.status, body: await response.json() };
  };
  const origin = (url: string) => new URL(url).origin;
  app.post("/v1/messages/batches", async (c) => {
    const created = book.create(await c.req.json(), c.env.fault);
    return typeof created === "string" ? anthropicError(400, created) : c.json(book.batchObject(created, origin(c.req.url)));
  });
  app.get("/v1/messages/batches/:id", async (c) => {
    const batch = book.batches.get(c.req.param("id"));
    if (!batch) return anthropicError(404, `No batch ${c.req.param("id")}`);
    await book.advance(batch, run);
    return c.json(book.batchObject(batch, origin(c.req.url)));
  });
  app.post("/v1/messages/batches/:id/cancel", (c) => {
    const batch = book.batches.get(c.req.param("id"));
    if (!batch) return anthropicError(404, `No batch ${c.req.param("id")}`);
    book.cancel(batch);
    return c.json(book.batchObject(batch, origin(c.req.url)));
  });
  app.get("/v1/messages/batches/:id/results", (c) => {
    const batch = book.batches.get(c.req.param("id"));
    if (!batch) return anthropicError(404, `No batch ${c.req.param("id")}`);
    if (batch.status !== "ended") return anthropicError(400, "Batch is still processing; results are available once it has ended.");
    return c.body(batch.results.join("\n") + "\n", 200, { "content-type": "application/binary" });
  });
  return app;
}
