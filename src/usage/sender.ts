import type { UsageBatch, UsageEvent } from "./event";

/**
 * Buffers usage events in the isolate and sends them together: one Queue message carries many events (up to
 * MAX_BYTES_PER_MESSAGE), and one `sendBatch` carries the messages of a flush — one `Queue.send` per request cost
 * about a third of the gateway's throughput (docs/performance.md). The request whose
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
/**
 * Events travel together: one Queue message carries up to this many bytes of events (Queues accept 128 KB per
 * message; an event without logged bodies is under 1 KB, one with them under 40 KB).
 */
const MAX_BYTES_PER_MESSAGE = 100_000;
/** Queues limits: 100 messages and 256 KB per sendBatch. */
const MAX_MESSAGES_PER_SEND = 100;
const MAX_BYTES_PER_SEND = 200_000;

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
    const unsent = (await Promise.all(sendsOf(messagesOf(events)).map((messages) => this.#send(queue, messages)))).flat(2);
    if (unsent.length === 0) return;
    // Kept for the next batch, ahead of newer events.
    this.#buffer.unshift(...unsent);
    logError("usage events not sent yet; the next batch carries them", { count: unsent.length });
  }

  /** Sends messages in one sendBatch, retrying with backoff; returns the events of what could not be sent. */
  async #send(queue: BatchQueue, messages: UsageEvent[][]): Promise<UsageEvent[][]> {
    for (let attempt = 0; ; attempt++) {
      try {
        await queue.sendBatch(batchMessages(messages));
        return [];
      } catch (error) {
        const delay = this.#retryDelaysMs[attempt];
        logError("usage sendBatch failed", { attempt: attempt + 1, count: messages.reduce((n, m) => n + m.length, 0), retrying: delay !== undefined, error: error instanceof Error ? error.message : String(error) });
        if (delay === undefined) return messages;
        await sleep(delay);
      }
    }
  }
}

/** One sendBatch call's messages, each carrying its events in the batch envelope. */
const batchMessages = (messages: UsageEvent[][]): MessageSendRequest<UsageBatch>[] => messages.map((events) => ({ body: { v: 1, events }, contentType: "json" }));

/**
 * Sends already built events straight away, packed like the isolate's flushes (batch results: thousands of events
 * from one Durable Object alarm, so they are not held for the isolate's flush timer). A refused send throws: the
 * caller's work is retried and the events, keyed by stable request ids, are written once.
 */
export async function sendUsageEvents(queue: Queue, events: UsageEvent[]): Promise<void> {
  for (const messages of sendsOf(messagesOf(events))) await queue.sendBatch(batchMessages(messages));
}

const encoder = new TextEncoder();
/** JSON.stringify escapes control characters, so anything outside printable ASCII in its output is non-ASCII. */
const NON_ASCII = /[^ -~]/;

/** An event's encoded size in bytes (encoding only the rare JSON that is not plain ASCII). */
function sizeOf(event: UsageEvent): number {
  const json = JSON.stringify(event);
  return NON_ASCII.test(json) ? encoder.encode(json).byteLength : json.length;
}

/** Groups items of the given sizes, in order, into groups of at most `maxItems` and `maxBytes` (an oversized item alone). */
function grouped<T>(items: readonly T[], sizes: readonly number[], maxItems: number, maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  items.forEach((item, i) => {
    const size = sizes[i]!;
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Events grouped into Queue messages of at most MAX_BYTES_PER_MESSAGE. */
export function messagesOf(events: UsageEvent[]): UsageEvent[][] {
  return grouped(events, events.map(sizeOf), 1_000, MAX_BYTES_PER_MESSAGE);
}

/** Messages grouped into sendBatch calls within the Queue's limits (message count and bytes). */
export function sendsOf(messages: UsageEvent[][]): UsageEvent[][][] {
  return grouped(messages, messages.map((events) => events.reduce((sum, event) => sum + sizeOf(event), 0)), MAX_MESSAGES_PER_SEND, MAX_BYTES_PER_SEND);
}

/** One per isolate: small, short-lived (flushed within milliseconds), never holds responses. */
export const usageEventSender = new UsageEventSender();
