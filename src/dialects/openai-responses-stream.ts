import type { GatewayError } from "../lib/errors";
import { sseFrame } from "../lib/sse";
import type { FinishReason, StreamEvent } from "../schema/internal";
import { emptyUsage } from "../schema/internal";
import type { StoredItem } from "../schema/openai-responses";
import { mergeUsage } from "./openai-chat";
import { newItemId, reasoningItem, responseObject, statusOf, type ResponseEcho, type ResponseObject, type ResponseStatus } from "./openai-responses";
import type { StreamRenderer } from "./stream-renderer";

/** The item being streamed: its place in `output`, and what it has accumulated so far. */
type OpenItem =
  | { kind: "message"; index: number; id: string; text: string }
  | { kind: "function_call"; index: number; id: string; callId: string; name: string; arguments: string; toolIndex: number }
  | { kind: "reasoning"; index: number; id: string; text: string };

/**
 * Renders internal stream events as the Responses API's event sequence: `response.created`, `response.in_progress`,
 * then per output item `response.output_item.added`, its content (`response.content_part.added`,
 * `response.output_text.delta`/`.done`, `response.content_part.done`; or `response.function_call_arguments.delta`/
 * `.done`; or reasoning summary events) and `response.output_item.done`; and last `response.completed` (or
 * `response.incomplete`) with usage. Every event carries an increasing `sequence_number`.
 *
 * The terminal event is written by `end()`, after `onComplete` — the gateway stores the response there — so a
 * client that sees `response.completed` can continue from the response at once. A failure writes
 * `response.failed` and an `error` event, and the stream then fails: it never ends as completed.
 */
export class ResponsesStreamRenderer implements StreamRenderer {
  readonly #echo: ResponseEcho;
  readonly #onComplete: (response: ResponseObject) => Promise<void>;
  #sequence = 0;
  #started = false;
  #model = "";
  readonly #usage = emptyUsage();
  readonly #output: StoredItem[] = [];
  #open: OpenItem | undefined;
  /** Function-call items by the adapter's tool index. */
  readonly #calls = new Map<number, Extract<OpenItem, { kind: "function_call" }>>();
  #finish: FinishReason | undefined;

  constructor(echo: ResponseEcho, onComplete: (response: ResponseObject) => Promise<void>) {
    this.#echo = echo;
    this.#onComplete = onComplete;
  }

  #frame(type: string, data: Record<string, unknown>): string {
    return sseFrame(JSON.stringify({ type, sequence_number: this.#sequence++, ...data }), type);
  }

  #response(status: ResponseStatus, extra: { error?: { code: string; message: string } } = {}): ResponseObject {
    return responseObject(this.#echo, { status, model: this.#model, output: this.#output, usage: this.#usage, ...(this.#finish ? { finishReason: this.#finish } : {}), ...extra });
  }

  #start(): string {
    if (this.#started) return "";
    this.#started = true;
    const response = this.#response("in_progress");
    return this.#frame("response.created", { response }) + this.#frame("response.in_progress", { response });
  }

  #add(item: StoredItem): string {
    this.#output.push(item);
    return this.#frame("response.output_item.added", { output_index: this.#output.length - 1, item });
  }

  /** The open item as it stands, with `status`. */
  #itemOf(open: OpenItem, status: "completed" | "incomplete", signature?: string): StoredItem {
    switch (open.kind) {
      case "message":
        return { type: "message", id: open.id, role: "assistant", status, content: [{ type: "output_text", text: open.text, annotations: [], logprobs: [] }] };
      case "function_call":
        return { type: "function_call", id: open.id, call_id: open.callId, name: open.name, arguments: open.arguments, status };
      case "reasoning":
        return { ...reasoningItem({ type: "thinking", text: open.text, ...(signature ? { signature } : {}) }, this.#echo.summaries, open.id), status };
    }
  }

  /** Ends the open item: its closing events and `response.output_item.done`. */
  #closeOpen(signature?: string): string {
    const open = this.#open;
    if (!open) return "";
    this.#open = undefined;
    const item = this.#itemOf(open, open.kind === "message" && this.#finish === "length" ? "incomplete" : "completed", signature);
    this.#output[open.index] = item;
    let out = "";
    if (open.kind === "message") {
      const at = { item_id: open.id, output_index: open.index, content_index: 0 };
      out += this.#frame("response.output_text.done", { ...at, text: open.text, logprobs: [] });
      out += this.#frame("response.content_part.done", { ...at, part: { type: "output_text", text: open.text, annotations: [], logprobs: [] } });
    } else if (open.kind === "function_call") {
      out += this.#frame("response.function_call_arguments.done", { item_id: open.id, output_index: open.index, name: open.name, arguments: open.arguments });
    } else if (this.#echo.summaries && open.text !== "") {
      const at = { item_id: open.id, output_index: open.index, summary_index: 0 };
      out += this.#frame("response.reasoning_summary_text.done", { ...at, text: open.text });
      out += this.#frame("response.reasoning_summary_part.done", { ...at, part: { type: "summary_text", text: open.text } });
    }
    return out + this.#frame("response.output_item.done", { output_index: open.index, item });
  }

  #text(delta: string): string {
    let out = "";
    let open = this.#open;
    if (open?.kind !== "message") {
      out += this.#closeOpen();
      const id = newItemId("msg_");
      out += this.#add({ type: "message", id, role: "assistant", status: "in_progress", content: [] });
      open = { kind: "message", index: this.#output.length - 1, id, text: "" };
      this.#open = open;
      out += this.#frame("response.content_part.added", { item_id: id, output_index: open.index, content_index: 0, part: { type: "output_text", text: "", annotations: [], logprobs: [] } });
    }
    open.text += delta;
    return out + this.#frame("response.output_text.delta", { item_id: open.id, output_index: open.index, content_index: 0, delta, logprobs: [] });
  }

  #reasoning(delta: string): string {
    let out = "";
    let open = this.#open;
    if (open?.kind !== "reasoning") {
      out += this.#closeOpen();
      const id = newItemId("rs_");
      out += this.#add({ type: "reasoning", id, summary: [], status: "in_progress" });
      open = { kind: "reasoning", index: this.#output.length - 1, id, text: "" };
      this.#open = open;
      if (this.#echo.summaries) out += this.#frame("response.reasoning_summary_part.added", { item_id: id, output_index: open.index, summary_index: 0, part: { type: "summary_text", text: "" } });
    }
    open.text += delta;
    if (!this.#echo.summaries) return out;
    return out + this.#frame("response.reasoning_summary_text.delta", { item_id: open.id, output_index: open.index, summary_index: 0, delta });
  }

  event(event: StreamEvent): string {
    switch (event.type) {
      case "start":
        this.#model = event.model || this.#model;
        mergeUsage(this.#usage, event.usage);
        return this.#start();
      case "text":
        return this.#start() + this.#text(event.delta);
      case "reasoning":
        return this.#start() + this.#reasoning(event.delta);
      case "reasoning_signature":
        // The signature ends its thinking block.
        return this.#start() + (this.#open?.kind === "reasoning" ? this.#closeOpen(event.signature) : "");
      case "reasoning_redacted": {
        const out = this.#start() + this.#closeOpen();
        const item: StoredItem = { ...reasoningItem({ type: "redacted", data: event.data }, this.#echo.summaries), status: "completed" };
        return out + this.#add(item) + this.#frame("response.output_item.done", { output_index: this.#output.length - 1, item });
      }
      case "tool_call_start": {
        let out = this.#start() + this.#closeOpen();
        const id = newItemId("fc_");
        out += this.#add({ type: "function_call", id, call_id: event.id, name: event.name, arguments: "", status: "in_progress" });
        const open = { kind: "function_call" as const, index: this.#output.length - 1, id, callId: event.id, name: event.name, arguments: "", toolIndex: event.index };
        this.#open = open;
        this.#calls.set(event.index, open);
        return out;
      }
      case "tool_call_delta": {
        const call = this.#calls.get(event.index);
        if (!call) return "";
        call.arguments += event.argumentsDelta;
        return this.#frame("response.function_call_arguments.delta", { item_id: call.id, output_index: call.index, delta: event.argumentsDelta });
      }
      case "usage":
        mergeUsage(this.#usage, event.usage);
        return "";
      case "finish":
        this.#finish = event.finishReason;
        return this.#start() + this.#closeOpen();
    }
  }

  /** The terminal event, once the completed response was handed to `onComplete` (stored). */
  async end(): Promise<string> {
    const { status } = statusOf(this.#finish ?? "stop");
    const response = this.#response(status);
    // The store reports its own failures; the client gets its answer either way.
    await this.#onComplete(response).catch(() => undefined);
    return this.#frame(status === "completed" ? "response.completed" : "response.incomplete", { response });
  }

  error(error: GatewayError): string {
    const failure = { code: error.code ?? error.type, message: error.message };
    let out = this.#start();
    // What was streamed so far stays in the failed response, marked incomplete.
    const open = this.#open;
    if (open) {
      this.#open = undefined;
      this.#output[open.index] = this.#itemOf(open, "incomplete");
    }
    out += this.#frame("response.failed", { response: this.#response("failed", { error: failure }) });
    // `code`, `message` and `param` at the top as OpenAI documents the event, and nested as its API sends it.
    return out + this.#frame("error", { code: failure.code, message: error.message, param: error.param, error: { type: error.type, code: failure.code, message: error.message, param: error.param } });
  }
}
