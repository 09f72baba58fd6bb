import type { UsageEvent } from "./event";

/**
 * Buffers usage events in the isolate and sends them with `sendBatch`: one `Queue.send` per request costs about
 * a third of the gateway's throughput (docs/performance.md), a batch send a fraction of that. The request whose
 * event opens a batch flushes it from its own `waitUntil` a few milliseconds later; events of requests settling
 * meanwhile ride along, and their requests never wait on another request's I/O.
 *
 * Delivery is at least once: a `sendBatch` that fails is retried with backoff by the request that flushes it;
 * if it still fails, its events go back to the front of the buffer and the next batch carries them. Duplicates
 * (a send that landed although it reported failure) are harmless: the consumer writes each request id once.
 */

/**
 * Long enough for a busy isolate's events to share one `sendBatch` (each is a subrequest to the Queue: at 2,000
 * requests/s this makes about 20 of them a second, not 400), short enough to add nothing a user notices.
 */
export const USAGE_FLUSH_DELAY_MS = 50;
/** Retries of a failed sendBatch, within `waitUntil`'s 30 s after the response. */
export const SEND_RETRY_DELAYS_MS = [100, 500, 2_000, 5_000, 10_000] as const;
/**
 * Events kept for a later batch while the Queue refuses them. Past this many (a long Queue outage in one
 * isolate) the oldest are dropped, logged by request id: the isolate's memory is the only other bound.
 */
export const MAX_BUFFERED_EVENTS = 20_000;
/** Queues limits: 100 messages and 256 KB per sendBatch; events stay far below 128 KB each. */
const MAX_MESSAGES_PER_BATCH = 100;
const MAX_BYTES_PER_BATCH = 200_000;

type BatchQueue = Pick<Queue, "sendBatch">;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

export class UsageEventSender {
  readonly #retryDelaysMs: readonly number[];
  #buffer: UsageEvent[] = [];
  #batchOpen = false;

  constructor(options: { retryDelaysMs?: readonly number[] } = {}) {
    this.#retryDelaysMs = options.retryDelaysMs ?? SEND_RETRY_DELAYS_MS;
  }

  /**
   * Buffers an event. The call that opens a batch returns the promise that sends it (to pass to its own
   * `waitUntil`); calls joining an open batch return undefined.
   */
  add(queue: BatchQueue, event: UsageEvent): Promise<void> | undefined {
    this.#buffer.push(event);
    if (this.#buffer.length > MAX_BUFFERED_EVENTS) {
      const dropped = this.#buffer.splice(0, this.#buffer.length - MAX_BUFFERED_EVENTS);
      logError("usage events dropped: the Queue refused them for too long", { requestIds: dropped.map((e) => e.requestId) });
    }
    if (this.#batchOpen) return undefined;
    this.#batchOpen = true;
    return this.#flushSoon(queue);
  }

  /** Events waiting to be sent (tests, graceful stops). */
  get buffered(): number {
    return this.#buffer.length;
  }

  async #flushSoon(queue: BatchQueue): Promise<void> {
    await sleep(USAGE_FLUSH_DELAY_MS);
    const events = this.#buffer;
    this.#buffer = [];
    this.#batchOpen = false;
    const unsent = (await Promise.all(chunksOf(events).map((chunk) => this.#send(queue, chunk)))).flat();
    if (unsent.length === 0) return;
    // Kept for the next batch, ahead of newer events.
    this.#buffer.unshift(...unsent);
    logError("usage events not sent yet; the next batch carries them", { count: unsent.length });
  }

  /** Sends one chunk, retrying with backoff; returns what could not be sent. */
  async #send(queue: BatchQueue, chunk: UsageEvent[]): Promise<UsageEvent[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
        return [];
      } catch (error) {
        const delay = this.#retryDelaysMs[attempt];
        logError("usage sendBatch failed", { attempt: attempt + 1, count: chunk.length, retrying: delay !== undefined, error: error instanceof Error ? error.message : String(error) });
        if (delay === undefined) return chunk;
        await sleep(delay);
      }
    }
  }
}

const encoder = new TextEncoder();

/**
 * An event's size in bytes as the Queue counts it: exact for events carrying logged bodies (the only large ones),
 * else an upper bound (three UTF-8 bytes per UTF-16 unit) that spares encoding every event.
 */
const sizeOf = (event: UsageEvent): number => (event.bodies ? encoder.encode(JSON.stringify(event)).byteLength : JSON.stringify(event).length * 3);

/** Splits events into sendBatch-sized batches (message count and encoded bytes). */
export function chunksOf(events: UsageEvent[]): UsageEvent[][] {
  const chunks: UsageEvent[][] = [];
  let current: UsageEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = sizeOf(event);
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
