import { mergeUsage } from "../dialects/openai-chat";
import type { GatewayConfig } from "../config/schema";
import type { ChatRequest, ChatResult, StreamEvent, Usage } from "../schema/internal";
import { emptyUsage } from "../schema/internal";
import { textTokenWeight } from "../usage/estimate";

/** Per body, in characters: keeps a usage event far below the Queue's 128 KB message limit. */
export const BODY_LOG_MAX_CHARS = 8_000;

/** Prompt and completion text, kept only when the workspace turned on `logging.bodies`. */
export type LoggedBodies = { request: string; response: string; truncated: boolean };

/** The prompt as logged (messages and tools, in the internal form) when the workspace turned on `logging.bodies`. */
export const loggedRequestOf = (config: GatewayConfig, request: ChatRequest): string | undefined =>
  config.logging?.bodies ? JSON.stringify({ messages: request.messages, ...(request.tools ? { tools: request.tools } : {}) }) : undefined;

function capped(text: string): { text: string; truncated: boolean } {
  return text.length > BODY_LOG_MAX_CHARS ? { text: text.slice(0, BODY_LOG_MAX_CHARS), truncated: true } : { text, truncated: false };
}

/**
 * What the response itself learns while it goes out: the provider's usage, whether its final usage arrived,
 * an estimate of the text streamed (the basis of the count when the final usage never arrives), the time to
 * first byte and, when the workspace logs bodies, the completion text. Written only by the response
 * (src/pipeline/respond.ts, as each result or event passes); read once by the settle step.
 */
export class ResponseAccount {
  readonly usage: Usage = emptyUsage();
  /** The provider's own final count arrived: a complete result, or a stream's final usage report. */
  finalUsage = false;
  /** Embeddings from a provider that reports no token count (Gemini's batchEmbedContents). */
  usageMissing = false;
  firstByteMs: number | undefined;
  readonly bodies: LoggedBodies | undefined;
  #streamedWeight = 0;

  constructor(loggedRequest?: string) {
    if (loggedRequest !== undefined) {
      const request = capped(loggedRequest);
      this.bodies = { request: request.text, response: "", truncated: request.truncated };
    }
  }

  /** Estimated tokens of the completion text streamed so far. */
  get streamedTokens(): number {
    return Math.ceil(this.#streamedWeight);
  }

  /** A complete chat answer (upstream, cache or a coalesced flight). */
  result(result: ChatResult): void {
    Object.assign(this.usage, result.usage);
    this.finalUsage = true;
    if (!this.bodies) return;
    this.#appendResponse(result.text);
    for (const call of result.toolCalls) this.#appendResponse(`\n[tool_call ${call.name}] ${call.arguments}`);
  }

  /** Embeddings: the provider's prompt count, or null when it reports none. */
  embeddings(promptTokens: number | null): void {
    this.usage.promptTokens = promptTokens ?? 0;
    this.usageMissing = promptTokens === null;
    this.finalUsage = promptTokens !== null;
  }

  /** One streamed event, at `atMs` into the request. */
  event(event: StreamEvent, atMs: number): void {
    this.firstByteMs ??= atMs;
    switch (event.type) {
      case "start":
        mergeUsage(this.usage, event.usage);
        break;
      case "usage":
        mergeUsage(this.usage, event.usage);
        if (event.usage.completionTokens !== undefined) this.finalUsage = true;
        break;
      case "text":
        this.#streamed(event.delta, event.delta);
        break;
      case "reasoning":
        // Thinking is billed as output: a stream cut short still counts what it thought (it is not logged).
        this.#streamed(event.delta, "");
        break;
      case "tool_call_start":
        this.#streamed(event.name, `\n[tool_call ${event.name}] `);
        break;
      case "tool_call_delta":
        this.#streamed(event.argumentsDelta, event.argumentsDelta);
        break;
      default:
        break;
    }
  }

  #streamed(counted: string, logged: string): void {
    this.#streamedWeight += textTokenWeight(counted);
    this.#appendResponse(logged);
  }

  #appendResponse(text: string): void {
    const bodies = this.bodies;
    if (!bodies || text === "") return;
    const room = BODY_LOG_MAX_CHARS - bodies.response.length;
    if (text.length > room) bodies.truncated = true;
    if (room > 0) bodies.response += text.slice(0, room);
  }
}
