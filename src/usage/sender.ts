import type { UsageEvent } from "./event";

/**
 * Buffers usage events in the isolate and sends them with `sendBatch`: one `Queue.send` per request costs about
 * a third of the gateway's throughput (docs/performance.md: ~950–1,200 req/s against ~1,760 batched). The request
 * whose event opens a batch flushes it from its own `waitUntil` a few milliseconds later; events of requests
 * settling meanwhile ride along. Events are built at flush time, when every request's record is final.
 */

/** Long enough for concurrent requests to join the batch, short enough to add nothing a user notices. */
export const USAGE_FLUSH_DELAY_MS = 5;
/** Queues limits: 100 messages and 256 KB per sendBatch; events stay far below 128 KB each. */
const MAX_MESSAGES_PER_BATCH = 100;
const MAX_BYTES_PER_BATCH = 200_000;

type Pending = () => UsageEvent;

export class UsageEventSender {
  #pending: Pending[] = [];
  #flush: Promise<void> | undefined;

  /** Queues an event; resolves when the batch holding it was handed to the Queue (or failed and was logged). */
  add(queue: Queue, event: Pending): Promise<void> {
    this.#pending.push(event);
    this.#flush ??= new Promise<void>((resolve) => setTimeout(resolve, USAGE_FLUSH_DELAY_MS)).then(() => this.#send(queue));
    return this.#flush;
  }

  async #send(queue: Queue): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    this.#flush = undefined;
    const events: UsageEvent[] = [];
    for (const build of pending) {
      try {
        events.push(build());
      } catch (error) {
        console.error(JSON.stringify({ level: "error", message: "usage event could not be built", error: error instanceof Error ? error.message : String(error) }));
      }
    }
    await Promise.all(chunksOf(events).map(async (chunk) => {
      try {
        await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
      } catch (error) {
        // The Queue refused: the events are lost for analytics, the client's response is unaffected. Logged with
        // the request ids (no bodies) so the gap is visible.
        console.error(JSON.stringify({ level: "error", message: "usage events not sent", requestIds: chunk.map((e) => e.requestId), error: error instanceof Error ? error.message : String(error) }));
      }
    }));
  }
}

/**
 * Sends already built events straight away, in sendBatch-sized chunks (batch results: thousands of events from
 * one Durable Object alarm, so they are not held for the isolate's flush timer). A refused send throws: the
 * caller's work is retried and the events, keyed by stable request ids, are written once.
 */
export async function sendUsageEvents(queue: Queue, events: UsageEvent[]): Promise<void> {
  for (const chunk of chunksOf(events)) await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
}

const encoder = new TextEncoder();

/** Splits events into sendBatch-sized batches (message count and encoded bytes). */
export function chunksOf(events: UsageEvent[]): UsageEvent[][] {
  const chunks: UsageEvent[][] = [];
  let current: UsageEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = encoder.encode(JSON.stringify(event)).byteLength;
    if (current.length > 0 && (current.length >= MAX_MESSAGES_PER_BATCH || bytes + size > MAX_BYTES_PER_BATCH)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** One per isolate: small, short-lived (flushed within milliseconds), never holds responses. */
export const usageEventSender = new UsageEventSender();
