import type { Context } from "hono";
import { AnthropicMessagesStreamRenderer, renderAnthropicMessage } from "../dialects/anthropic-messages";
import { OpenAIChatStreamRenderer, renderOpenAIChat } from "../dialects/openai-chat";
import type { StreamRenderer } from "../dialects/stream-renderer";
import { SSE_HEADERS } from "../lib/sse";
import type { ChatRequest, ChatResult, StreamEvent } from "../schema/internal";
import type { ResponseAccount } from "../settle/account";
import type { AnsweringTarget, AttemptLog } from "../settle/record";
import type { AppEnv } from "../types";
import { renderEventStream, type StreamHooks } from "./stream";

/**
 * A chat answer rendered in the client's dialect, whatever produced it: an upstream call, a cache hit or a
 * coalesced flight. As it goes out, the request's `ResponseAccount` learns its usage and first byte; a stream's
 * end finishes the request record.
 */

/** What a response is rendered with: the request's account, its attempt log and who answered (for the headers). */
export type Responding = { account: ResponseAccount; log: AttemptLog; answeredBy: AnsweringTarget | undefined };

function renderResult(c: Context<AppEnv>, result: ChatResult): unknown {
  const presentation = c.get("presentation");
  if (presentation) return presentation.body(result);
  return c.get("dialect") === "anthropic" ? renderAnthropicMessage(result) : renderOpenAIChat(result);
}

function rendererFor(c: Context<AppEnv>, request: ChatRequest): StreamRenderer {
  const presentation = c.get("presentation");
  const renderer = presentation
    ? presentation.renderer()
    : c.get("dialect") === "anthropic"
      ? new AnthropicMessagesStreamRenderer({ fallbackModel: request.model })
      : new OpenAIChatStreamRenderer({ includeUsage: request.includeUsage, fallbackModel: request.model });
  return c.get("guard")?.guardStream(renderer) ?? renderer;
}

export function answeredHeaders(responding: Pick<Responding, "log" | "answeredBy">): Record<string, string> {
  const headers: Record<string, string> = { "x-switchyard-attempts": String(responding.log.attempts.length) };
  if (responding.answeredBy) {
    headers["x-switchyard-provider"] = responding.answeredBy.provider;
    headers["x-switchyard-model"] = responding.answeredBy.model;
  }
  return headers;
}

/** A complete result as the client's dialect's JSON body. */
export function respondWithResult(c: Context<AppEnv>, result: ChatResult, responding: Responding, headers: Record<string, string> = {}): Response {
  responding.account.result(result);
  // Output guardrails: a block refuses the answer (the upstream call is still accounted for above).
  const answer = c.get("guard")?.checkResult(result) ?? result;
  return c.json(renderResult(c, answer), 200, { ...answeredHeaders(responding), ...headers });
}

/** Internal events rendered as the client's dialect's stream as they arrive; `hooks` also see every event and the end. */
export function respondWithEvents(
  c: Context<AppEnv>,
  request: ChatRequest,
  head: readonly StreamEvent[],
  rest: ReadableStreamDefaultReader<StreamEvent>,
  responding: Responding,
  hooks: Partial<StreamHooks> = {},
  headers: Record<string, string> = {},
): Response {
  const record = c.get("record");
  const startedAt = c.get("startedAt");
  const body = renderEventStream(
    head,
    rest,
    rendererFor(c, request),
    {
      onEvent: (event) => {
        responding.account.event(event, performance.now() - startedAt);
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
    responding.answeredBy?.provider,
  );
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...answeredHeaders(responding), ...headers } });
}
