import { EventSourceParserStream, type EventSourceMessage } from "eventsource-parser/stream";

export type { EventSourceMessage };

/** Decodes an SSE byte stream into messages as bytes arrive. */
export function decodeSSE(body: ReadableStream<Uint8Array>): ReadableStream<EventSourceMessage> {
  return body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
}

const encoder = new TextEncoder();

/** One SSE frame: `event:` line when named, one `data:` line (JSON never holds raw newlines). */
export function sseFrame(data: string, event?: string): string {
  return event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

export const encodeText = (text: string): Uint8Array => encoder.encode(text);

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
} as const;
