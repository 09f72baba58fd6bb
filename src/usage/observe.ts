import type { GatewayConfig } from "../config/schema";
import type { RequestRecord } from "../pipeline/record";
import type { ChatRequest, ChatResult, StreamEvent, Usage } from "../schema/internal";

/**
 * What the usage event needs to learn from a chat request while it is served: prompt size (for the estimate of
 * a stream that ends without its final usage), streamed completion size, and — only when the workspace turned
 * on `logging.bodies` — the prompt and completion text, each capped.
 */

/** Per body, in characters: keeps an event far below the Queue's 128 KB message limit. */
export const BODY_LOG_MAX_CHARS = 8_000;

/** The simulators' and a common rule of thumb: about four characters per token. */
const CHARS_PER_TOKEN = 4;

const promptTextOf = (request: ChatRequest): string =>
  request.messages.map((m) => m.content.map((p) => (p.type === "text" ? p.text : "")).join("")).join("\n");

function capped(text: string): { text: string; truncated: boolean } {
  return text.length > BODY_LOG_MAX_CHARS ? { text: text.slice(0, BODY_LOG_MAX_CHARS), truncated: true } : { text, truncated: false };
}

export function observeRequest(record: RequestRecord, config: GatewayConfig, request: ChatRequest): void {
  // Text only, no serialisation: this runs on every request (images cannot be estimated from characters anyway).
  record.promptChars = promptTextOf(request).length + (request.tools ?? []).reduce((sum, t) => sum + t.name.length + (t.description?.length ?? 0), 0);
  if (config.logging?.bodies) {
    const body = capped(JSON.stringify({ messages: request.messages, ...(request.tools ? { tools: request.tools } : {}) }));
    record.bodies = { request: body.text, response: "", truncated: body.truncated };
  }
}

function appendResponse(record: RequestRecord, text: string): void {
  const bodies = record.bodies;
  if (!bodies || text === "") return;
  const room = BODY_LOG_MAX_CHARS - bodies.response.length;
  if (text.length > room) bodies.truncated = true;
  if (room > 0) bodies.response += text.slice(0, room);
}

export function observeResult(record: RequestRecord, result: ChatResult): void {
  record.finalUsageSeen = true;
  if (!record.bodies) return;
  appendResponse(record, result.text);
  for (const call of result.toolCalls) appendResponse(record, `\n[tool_call ${call.name}] ${call.arguments}`);
}

/** Sees every streamed event; usage merging stays with the caller (src/pipeline/respond.ts). */
export function observeStreamEvent(record: RequestRecord, event: StreamEvent): void {
  switch (event.type) {
    case "text":
      record.completionChars += event.delta.length;
      appendResponse(record, event.delta);
      break;
    case "tool_call_start":
      record.completionChars += event.name.length;
      appendResponse(record, `\n[tool_call ${event.name}] `);
      break;
    case "tool_call_delta":
      record.completionChars += event.argumentsDelta.length;
      appendResponse(record, event.argumentsDelta);
      break;
    case "usage":
      if (event.usage.completionTokens !== undefined) record.finalUsageSeen = true;
      break;
    default:
      break;
  }
}

/**
 * The usage to account for. Normally the provider's own numbers. A stream that ended without the provider's
 * final usage (upstream broke off, or the client left and draining hit its bound) is counted as the larger of
 * what the provider reported so far and an estimate from the characters seen — an over- rather than an
 * undercount, and the event says it is estimated.
 */
export function accountedUsage(record: RequestRecord): { usage: Usage; estimated: boolean } {
  const seen = record.usage;
  if (!record.stream || !record.answeredBy || record.finalUsageSeen || record.cacheStatus === "HIT") return { usage: { ...seen }, estimated: false };
  const estimate = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);
  return {
    usage: {
      ...seen,
      promptTokens: Math.max(seen.promptTokens, estimate(record.promptChars)),
      completionTokens: Math.max(seen.completionTokens, estimate(record.completionChars)),
    },
    estimated: true,
  };
}
