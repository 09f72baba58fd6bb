import type { Context } from "hono";
import { AnthropicMessagesStreamRenderer, renderAnthropicMessage } from "../dialects/anthropic-messages";
import { OpenAIChatStreamRenderer, mergeUsage, renderOpenAIChat } from "../dialects/openai-chat";
import type { StreamRenderer } from "../dialects/stream-renderer";
import { SSE_HEADERS } from "../lib/sse";
import type { ChatRequest, ChatResult, StreamEvent } from "../schema/internal";
import type { AppEnv } from "../types";
import { observeResult, observeStreamEvent } from "../usage/observe";
import { renderEventStream, type StreamHooks } from "./stream";

/**
 * A chat answer rendered in the client's dialect, whatever produced it: an upstream call, a cache hit or a
 * coalesced flight. Usage, first byte and the request's outcome are kept on the record here.
 */

function renderResult(c: Context<AppEnv>, result: ChatResult): unknown {
  return c.get("dialect") === "anthropic" ? renderAnthropicMessage(result) : renderOpenAIChat(result);
}

function rendererFor(c: Context<AppEnv>, request: ChatRequest): StreamRenderer {
  const renderer =
    c.get("dialect") === "anthropic"
      ? new AnthropicMessagesStreamRenderer({ fallbackModel: request.model })
      : new OpenAIChatStreamRenderer({ includeUsage: request.includeUsage, fallbackModel: request.model });
  return c.get("guard")?.guardStream(renderer) ?? renderer;
}

export function answeredHeaders(c: Context<AppEnv>): Record<string, string> {
  const record = c.get("record");
  const headers: Record<string, string> = { "x-switchyard-attempts": String(record.attempts.length) };
  if (record.answeredBy) {
    headers["x-switchyard-provider"] = record.answeredBy.provider;
    headers["x-switchyard-model"] = record.answeredBy.model;
  }
  return headers;
}

/** A complete result as the client's dialect's JSON body. */
export function respondWithResult(c: Context<AppEnv>, result: ChatResult, headers: Record<string, string> = {}): Response {
  const record = c.get("record");
  record.usage = { ...result.usage };
  observeResult(record, result);
  // Output guardrails: a block refuses the answer (the upstream call is still accounted for above).
  const answer = c.get("guard")?.checkResult(result) ?? result;
  record.finish("success");
  return c.json(renderResult(c, answer), 200, { ...answeredHeaders(c), ...headers });
}

/** Internal events rendered as the client's dialect's stream as they arrive; `hooks` also see every event and the end. */
export function respondWithEvents(
  c: Context<AppEnv>,
  request: ChatRequest,
  head: readonly StreamEvent[],
  rest: ReadableStreamDefaultReader<StreamEvent>,
  hooks: Partial<StreamHooks> = {},
  headers: Record<string, string> = {},
  provider?: string,
): Response {
  const record = c.get("record");
  const body = renderEventStream(
    head,
    rest,
    rendererFor(c, request),
    {
      onEvent: (event) => {
        if (record.firstByteMs === undefined) record.firstByteMs = record.totalMs;
        if (event.type === "start" || event.type === "usage") mergeUsage(record.usage, event.usage);
        observeStreamEvent(record, event);
        hooks.onEvent?.(event);
      },
      onCancel: () => {
        record.markEnded();
        hooks.onCancel?.();
      },
      onEnd: (end) => {
        hooks.onEnd?.(end);
        record.finish(end.outcome === "complete" ? "success" : end.outcome, end.outcome === "error" ? end.error.type : undefined);
      },
      redact: (error) => c.get("redactor").redactError(error),
    },
    provider,
  );
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...answeredHeaders(c), ...headers } });
}
