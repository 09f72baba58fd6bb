import { describe, expect, it } from "vitest";
import { decodeEventStream, encodeEventStreamFrame, frameJson, type EventStreamFrame } from "./event-stream";
import { GatewayError } from "../../lib/errors";

const encoder = new TextEncoder();
const frames = [
  encodeEventStreamFrame({ ":event-type": "messageStart", ":message-type": "event" }, encoder.encode('{"role":"assistant"}')),
  encodeEventStreamFrame({ ":event-type": "contentBlockDelta", ":message-type": "event" }, encoder.encode('{"contentBlockIndex":0,"delta":{"text":"héllo"}}')),
  encodeEventStreamFrame({ ":event-type": "messageStop", ":message-type": "event" }, encoder.encode('{"stopReason":"end_turn"}')),
];
const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
frames.reduce((offset, f) => (all.set(f, offset), offset + f.length), 0);

async function decode(chunks: Uint8Array[]): Promise<EventStreamFrame[]> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const out: EventStreamFrame[] = [];
  for await (const frame of source.pipeThrough(decodeEventStream("aws"))) out.push(frame);
  return out;
}

const split = (bytes: Uint8Array, size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.slice(i * size, (i + 1) * size));

describe("decodeEventStream", () => {
  it("finds the same frames whatever the chunking: one chunk, byte by byte, odd sizes", async () => {
    for (const chunks of [[all], split(all, 1), split(all, 7), split(all, 100)]) {
      const decoded = await decode(chunks);
      expect(decoded.map((f) => f.headers[":event-type"])).toEqual(["messageStart", "contentBlockDelta", "messageStop"]);
      expect(frameJson(decoded[1]!, "aws")).toEqual({ contentBlockIndex: 0, delta: { text: "héllo" } });
    }
  });

  it("fails on a stream that ends inside a frame", async () => {
    await expect(decode([all.slice(0, all.length - 5)])).rejects.toThrow(/ended inside a frame/);
  });

  it("fails on a corrupted frame (CRC mismatch) with a gateway error naming the provider", async () => {
    const corrupted = all.slice();
    corrupted[frames[0]!.length + 20]! ^= 0xff;
    const error = await decode([corrupted]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).toMatch(/^aws: invalid event stream/);
  });
});
