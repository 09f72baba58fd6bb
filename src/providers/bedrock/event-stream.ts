import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { GatewayError } from "../../lib/errors";

/**
 * AWS event-stream binary framing (application/vnd.amazon.eventstream), used by Bedrock's streaming APIs.
 * Each frame is `total length (4) | headers length (4) | prelude CRC (4) | headers | payload | message CRC (4)`;
 * the codec checks both CRCs and parses the typed headers, this module only finds the frame boundaries, which
 * do not line up with network chunks: a frame may span chunks and a chunk may hold several frames.
 */

export type EventStreamFrame = {
  /** String-valued headers (`:message-type`, `:event-type`, `:exception-type`, `:content-type`, ...). */
  headers: Record<string, string>;
  body: Uint8Array;
};

const PRELUDE_BYTES = 12;
const TRAILER_BYTES = 4;
/** Larger than any frame AWS documents (a frame's payload is capped well below this); guards a corrupt length. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function framingError(provider: string, detail: string): GatewayError {
  return new GatewayError({ status: 502, type: "upstream_error", code: "invalid_upstream_response", provider, message: `${provider}: invalid event stream (${detail})` });
}

function toFrame(bytes: Uint8Array, provider: string): EventStreamFrame {
  let message;
  try {
    message = codec.decode(bytes);
  } catch (error) {
    throw framingError(provider, error instanceof Error ? error.message : "undecodable frame");
  }
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(message.headers)) if (header.type === "string") headers[name] = header.value;
  return { headers, body: message.body };
}

/** Decodes event-stream bytes into frames as they arrive. A stream that ends inside a frame is an error. */
export function decodeEventStream(provider: string): TransformStream<Uint8Array, EventStreamFrame> {
  let buffer: Uint8Array = new Uint8Array(0);
  return new TransformStream({
    transform(chunk, controller) {
      if (buffer.length === 0) buffer = chunk;
      else {
        const joined = new Uint8Array(buffer.length + chunk.length);
        joined.set(buffer);
        joined.set(chunk, buffer.length);
        buffer = joined;
      }
      while (buffer.length >= PRELUDE_BYTES) {
        const total = new DataView(buffer.buffer, buffer.byteOffset, 4).getUint32(0);
        if (total < PRELUDE_BYTES + TRAILER_BYTES || total > MAX_FRAME_BYTES) throw framingError(provider, `frame length ${total}`);
        if (buffer.length < total) break;
        controller.enqueue(toFrame(buffer.subarray(0, total), provider));
        buffer = buffer.subarray(total);
      }
    },
    flush() {
      if (buffer.length > 0) throw framingError(provider, "the stream ended inside a frame");
    },
  });
}

/** The frame's payload as JSON (event payloads are JSON objects for Bedrock's APIs). */
export function frameJson(frame: EventStreamFrame, provider: string): unknown {
  try {
    return JSON.parse(toUtf8(frame.body));
  } catch {
    throw framingError(provider, "a frame's payload is not JSON");
  }
}

/** Encodes one frame (simulators and tests use this; the gateway only decodes). */
export function encodeEventStreamFrame(headers: Record<string, string>, body: Uint8Array): Uint8Array {
  return codec.encode({ headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { type: "string", value }])), body });
}
