import { mergeUsage } from "../dialects/openai-chat";
import type { ChatResult, FinishReason, ReasoningBlock, StreamEvent, ToolCall } from "../schema/internal";
import { emptyUsage } from "../schema/internal";

/** Replayed text goes out in pieces of this many characters: a long answer still streams in bounded events. */
const REPLAY_TEXT_PIECE = 4_096;

/**
 * A completed result as the internal events a stream of it would have carried, so the dialects' stream renderers
 * replay it exactly like a live stream (role chunk, content, tool calls, finish, and the usage chunk when asked).
 */
export function eventsOfResult(result: ChatResult): StreamEvent[] {
  const { promptTokens, cachedTokens, cacheWriteTokens } = result.usage;
  const events: StreamEvent[] = [{ type: "start", id: result.id, model: result.model, usage: { promptTokens, cachedTokens, cacheWriteTokens } }];
  for (const block of result.reasoning ?? []) {
    if (block.type === "redacted") events.push({ type: "reasoning_redacted", data: block.data });
    else {
      if (block.text !== "") events.push({ type: "reasoning", delta: block.text });
      if (block.signature !== undefined) events.push({ type: "reasoning_signature", signature: block.signature });
    }
  }
  for (let i = 0; i < result.text.length; i += REPLAY_TEXT_PIECE) events.push({ type: "text", delta: result.text.slice(i, i + REPLAY_TEXT_PIECE) });
  for (const [index, call] of result.toolCalls.entries()) {
    events.push({ type: "tool_call_start", index, id: call.id, name: call.name });
    if (call.arguments !== "") events.push({ type: "tool_call_delta", index, argumentsDelta: call.arguments });
  }
  events.push({ type: "usage", usage: { ...result.usage } });
  events.push({ type: "finish", finishReason: result.finishReason, ...(result.stopSequence !== undefined ? { stopSequence: result.stopSequence } : {}) });
  return events;
}

/** A stream of the given events, for the renderers that read streams. */
export function streamOf(events: readonly StreamEvent[]): ReadableStream<StreamEvent> {
  return new ReadableStream<StreamEvent>({
    start(controller) {
      for (const event of events) controller.enqueue(event);
      controller.close();
    },
  });
}

/**
 * Builds the completed result of a stream from its events as they pass (for the cache and for coalescing
 * followers that asked for JSON). `result` is only defined once `finish` was seen: a cut stream yields nothing.
 * `limitChars` bounds what is kept: past it the capture gives up (an answer that big is not cached).
 */
export class ResultCapture {
  #id = "";
  #model = "";
  readonly #created = Math.floor(Date.now() / 1_000);
  #text = "";
  readonly #toolCalls = new Map<number, ToolCall>();
  readonly #reasoning: ReasoningBlock[] = [];
  /** The thinking block still receiving text (it ends with its signature, or where other content begins). */
  #thinking: Extract<ReasoningBlock, { type: "thinking" }> | undefined;
  readonly #usage = emptyUsage();
  #finish: { reason: FinishReason; stopSequence?: string } | undefined;
  #size = 0;
  #overflowed = false;
  readonly #limitChars: number;

  constructor(options: { limitChars: number }) {
    this.#limitChars = options.limitChars;
  }

  add(event: StreamEvent): void {
    if (this.#overflowed) return;
    if (event.type !== "reasoning" && event.type !== "reasoning_signature") this.#thinking = undefined;
    switch (event.type) {
      case "reasoning":
        if (!this.#thinking) {
          this.#thinking = { type: "thinking", text: "" };
          this.#reasoning.push(this.#thinking);
        }
        this.#thinking.text += event.delta;
        this.#grow(event.delta.length);
        break;
      case "reasoning_signature":
        if (this.#thinking) this.#thinking.signature = event.signature;
        else this.#reasoning.push({ type: "thinking", text: "", signature: event.signature });
        this.#thinking = undefined;
        this.#grow(event.signature.length);
        break;
      case "reasoning_redacted":
        this.#reasoning.push({ type: "redacted", data: event.data });
        this.#grow(event.data.length);
        break;
      case "start":
        this.#id = event.id;
        this.#model = event.model;
        mergeUsage(this.#usage, event.usage);
        break;
      case "text":
        this.#text += event.delta;
        this.#grow(event.delta.length);
        break;
      case "tool_call_start":
        this.#toolCalls.set(event.index, { id: event.id, name: event.name, arguments: "" });
        this.#grow(event.name.length + event.id.length);
        break;
      case "tool_call_delta": {
        const call = this.#toolCalls.get(event.index);
        if (call) call.arguments += event.argumentsDelta;
        this.#grow(event.argumentsDelta.length);
        break;
      }
      case "usage":
        mergeUsage(this.#usage, event.usage);
        break;
      case "finish":
        this.#finish = { reason: event.finishReason, ...(event.stopSequence !== undefined ? { stopSequence: event.stopSequence } : {}) };
        break;
    }
  }

  #grow(chars: number): void {
    this.#size += chars;
    if (this.#size > this.#limitChars) {
      this.#overflowed = true;
      this.#text = "";
      this.#toolCalls.clear();
      this.#reasoning.length = 0;
    }
  }

  get result(): ChatResult | undefined {
    if (!this.#finish || this.#overflowed) return undefined;
    return {
      id: this.#id,
      model: this.#model,
      created: this.#created,
      text: this.#text,
      toolCalls: [...this.#toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call),
      ...(this.#reasoning.length > 0 ? { reasoning: this.#reasoning.map((block) => ({ ...block })) } : {}),
      finishReason: this.#finish.reason,
      ...(this.#finish.stopSequence !== undefined ? { stopSequence: this.#finish.stopSequence } : {}),
      usage: { ...this.#usage },
    };
  }
}
