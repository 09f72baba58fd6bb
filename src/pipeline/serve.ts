import type { Context } from "hono";
import { AnthropicMessagesStreamRenderer, renderAnthropicMessage } from "../dialects/anthropic-messages";
import { OpenAIChatStreamRenderer, mergeUsage, renderOpenAIChat } from "../dialects/openai-chat";
import type { StreamRenderer } from "../dialects/stream-renderer";
import { base64Encode } from "../lib/crypto";
import { SSE_HEADERS } from "../lib/sse";
import type { ChatRequest, ChatResult, EmbeddingsRequest } from "../schema/internal";
import type { AppEnv } from "../types";
import { attemptChat, attemptEmbeddings } from "./attempt";
import { planTargets, runAttempts, type ExecutionScope } from "./execute";
import { renderEventStream } from "./stream";

// `c.get(name)` rather than `c.var.name` on the request path: Hono builds a new object of every variable on each
// `c.var` access (Object.fromEntries), measurable in CPU profiles (docs/performance.md).
const scopeOf = (c: Context<AppEnv>): ExecutionScope => ({ env: c.env, workspaceId: c.get("workspaceId"), config: c.get("config"), record: c.get("record") });

function renderResult(c: Context<AppEnv>, result: ChatResult): unknown {
  return c.get("dialect") === "anthropic" ? renderAnthropicMessage(result) : renderOpenAIChat(result);
}

function rendererFor(c: Context<AppEnv>, request: ChatRequest): StreamRenderer {
  return c.get("dialect") === "anthropic"
    ? new AnthropicMessagesStreamRenderer({ fallbackModel: request.model })
    : new OpenAIChatStreamRenderer({ includeUsage: request.includeUsage, fallbackModel: request.model });
}

function answeredHeaders(c: Context<AppEnv>): Record<string, string> {
  const record = c.get("record");
  const headers: Record<string, string> = { "x-switchyard-attempts": String(record.attempts.length) };
  if (record.answeredBy) {
    headers["x-switchyard-provider"] = record.answeredBy.provider;
    headers["x-switchyard-model"] = record.answeredBy.model;
  }
  return headers;
}

/** Serves a chat request (from either dialect) end to end: plan, attempts, and the rendered response or stream. */
export async function serveChat(c: Context<AppEnv>, request: ChatRequest): Promise<Response> {
  const record = c.get("record");
  record.stream = request.stream;
  const scope = scopeOf(c);
  const plan = planTargets(scope.config, request.model, record);
  const { value: success } = await runAttempts(scope, plan, (prepared) => attemptChat(prepared, request, record, c.req.raw.signal));

  if (success.kind === "complete") {
    record.usage = success.result.usage;
    record.finish("success");
    return c.json(renderResult(c, success.result), 200, answeredHeaders(c));
  }

  const body = renderEventStream(
    success.head,
    success.rest,
    rendererFor(c, request),
    {
      onEvent: (event) => {
        if (record.firstByteMs === undefined) record.firstByteMs = record.totalMs;
        if (event.type === "start" || event.type === "usage") mergeUsage(record.usage, event.usage);
      },
      onEnd: (end) => record.finish(end.outcome === "complete" ? "success" : end.outcome, end.outcome === "error" ? end.error.type : undefined),
    },
    success.prepared.target.provider,
  );
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...answeredHeaders(c) } });
}

function float32Base64(vector: readonly number[]): string {
  return base64Encode(new Uint8Array(new Float32Array(vector).buffer));
}

export async function serveEmbeddings(c: Context<AppEnv>, request: EmbeddingsRequest): Promise<Response> {
  const record = c.get("record");
  record.operation = "embeddings";
  const scope = scopeOf(c);
  const plan = planTargets(scope.config, request.model, record);
  const { value: result } = await runAttempts(scope, plan, (prepared) => attemptEmbeddings(prepared, request, record, c.req.raw.signal));
  record.usage.promptTokens = result.usage.promptTokens;
  record.finish("success");
  const data = result.vectors.map((vector, index) => ({
    object: "embedding",
    index,
    embedding: request.encodingFormat === "base64" ? float32Base64(vector) : vector,
  }));
  return c.json(
    { object: "list", data, model: result.model, usage: { prompt_tokens: result.usage.promptTokens, total_tokens: result.usage.promptTokens } },
    200,
    answeredHeaders(c),
  );
}
