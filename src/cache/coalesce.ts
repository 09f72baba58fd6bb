import type { RequestCoalescer } from "../../durable-objects/request-coalescer";
import { GatewayError } from "../lib/errors";
import type { ChatResult, StreamEvent } from "../schema/internal";
import type { AnsweringTarget } from "./entry";
import { fromSharedError, isShareableFailure, toSharedError, type FlightBatch, type FlightEnd, type JoinOptions, type ReadResult } from "./flight";

type CoalescerStub = DurableObjectStub<RequestCoalescer>;
type WaitUntil = (promise: Promise<unknown>) => void;

function warn(event: string, error: unknown): void {
  console.warn(JSON.stringify({ level: "warn", event, error: error instanceof Error ? error.message : String(error) }));
}

/** The object that coalesces one key: per workspace and request hash, so workspaces never share flights. */
export const coalescerName = (workspaceId: string, hash: string) => `${workspaceId}:${hash}`;

export type FlightRole = { role: "leader"; publisher: FlightPublisher } | { role: "follower"; follower: FlightFollower };

/**
 * Joins the flight of `name` (one RPC). Undefined when the Durable Object cannot be reached: the request then
 * simply calls upstream on its own — coalescing never fails a request.
 */
export async function joinFlight(namespace: DurableObjectNamespace<RequestCoalescer>, name: string, options: JoinOptions, waitUntil: WaitUntil): Promise<FlightRole | undefined> {
  try {
    const stub = namespace.getByName(name);
    const joined = await stub.join(options);
    return joined.role === "leader"
      ? { role: "leader", publisher: new FlightPublisher(stub, joined.flight, joined.ticket, waitUntil) }
      : { role: "follower", follower: new FlightFollower(stub, joined.flight, options.maxWaitMs) };
  } catch (error) {
    warn("coalesce_join_failed", error);
    return undefined;
  }
}

/**
 * The leader's side: events are sent as they pass, in batches — one RPC at a time, carrying whatever
 * accumulated while the previous one was out — from `waitUntil`, so the leader's own client never waits for it.
 */
export class FlightPublisher {
  readonly #stub: CoalescerStub;
  readonly #flight: string;
  readonly #ticket: string;
  readonly #waitUntil: WaitUntil;
  #pending: StreamEvent[] = [];
  #end: FlightEnd | undefined;
  #target: AnsweringTarget | undefined;
  #sending = false;
  /** The object refused (or could not take) a batch: followers have gone their own way, stop publishing. */
  #closed = false;

  constructor(stub: CoalescerStub, flight: string, ticket: string, waitUntil: WaitUntil) {
    this.#stub = stub;
    this.#flight = flight;
    this.#ticket = ticket;
    this.#waitUntil = waitUntil;
  }

  /** Who answers: sent with the next batch, so streamed followers can name the provider before the end. */
  target(target: AnsweringTarget): void {
    this.#target = target;
  }

  push(event: StreamEvent): void {
    if (this.#closed || this.#end) return;
    this.#pending.push(event);
    this.#kick();
  }

  /**
   * The flight's answer: followers asking for JSON get `result` exactly; streamed followers its events.
   * `reusable`: it will be cached, so it may also answer identical requests arriving just after the end.
   */
  complete(result: ChatResult, target: AnsweringTarget, reusable: boolean, events: readonly StreamEvent[] = []): void {
    this.#endWith({ kind: "complete", result, target, reusable }, events);
  }

  fail(error: unknown): void {
    const failure = error instanceof GatewayError ? error : new GatewayError({ status: 502, type: "upstream_error", message: "The upstream call failed." });
    this.#endWith({ kind: "failed", error: toSharedError(failure), shareable: isShareableFailure(failure) }, []);
  }

  #endWith(end: FlightEnd, events: readonly StreamEvent[]): void {
    if (this.#closed || this.#end) return;
    this.#pending.push(...events);
    this.#end = end;
    this.#kick();
  }

  #kick(): void {
    if (this.#sending) return;
    this.#sending = true;
    this.#waitUntil(this.#drain());
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        const end = this.#end;
        if (this.#pending.length === 0 && !end) return;
        const batch: FlightBatch = { events: this.#pending, ...(this.#target ? { target: this.#target } : {}), ...(end ? { end } : {}) };
        this.#pending = [];
        this.#target = undefined;
        const { accepted } = await this.#stub.publish(this.#flight, this.#ticket, batch);
        if (!accepted) this.#closed = true;
        if (end || this.#closed) {
          this.#closed = true;
          return;
        }
      }
    } catch (error) {
      warn("coalesce_publish_failed", error);
      this.#closed = true;
    } finally {
      this.#sending = false;
    }
  }
}

/** What a follower learnt: the flight's end, or that it must go its own way (leader gone, object unreachable). */
export type FollowOutcome = { kind: "end"; end: FlightEnd } | { kind: "abandoned"; reason: string };

/** A follower's reading side: long polls of the object, each returning as soon as the leader published more. */
export class FlightFollower {
  readonly #stub: CoalescerStub;
  readonly #flight: string;
  readonly #maxWaitMs: number;

  constructor(stub: CoalescerStub, flight: string, maxWaitMs: number) {
    this.#stub = stub;
    this.#flight = flight;
    this.#maxWaitMs = maxWaitMs;
  }

  async #read(from: number, withEvents: boolean): Promise<ReadResult | { failed: string }> {
    try {
      const result = await this.#stub.read(this.#flight, from, this.#maxWaitMs, withEvents);
      if (result.lost) return { failed: "the shared request is no longer known" };
      return result;
    } catch (error) {
      warn("coalesce_read_failed", error);
      return { failed: "the coalescing object could not be reached" };
    }
  }

  /** Waits for the end, as long as the leader keeps making progress. */
  async outcome(): Promise<FollowOutcome> {
    let from = 0;
    for (;;) {
      const read = await this.#read(from, false);
      if ("failed" in read) return { kind: "abandoned", reason: read.failed };
      if (read.end) return { kind: "end", end: read.end };
      if (read.next === from) return { kind: "abandoned", reason: "the shared request made no progress in time" };
      from = read.next;
    }
  }

  /** Waits for the first events (the follower commits to the flight once it has them), or the end. */
  async head(): Promise<{ kind: "events"; events: StreamEvent[]; next: number; target?: AnsweringTarget; end?: FlightEnd } | FollowOutcome> {
    const read = await this.#read(0, true);
    if ("failed" in read) return { kind: "abandoned", reason: read.failed };
    // A flight that already failed is not joined half-way: nothing went to this client yet, so it can still choose.
    if (read.end?.kind === "failed") return { kind: "end", end: read.end };
    if (read.events.length > 0) return { kind: "events", events: read.events, next: read.next, ...(read.target ? { target: read.target } : {}), ...(read.end ? { end: read.end } : {}) };
    if (read.end) return { kind: "end", end: read.end };
    return { kind: "abandoned", reason: "the shared request made no progress in time" };
  }

  /**
   * The rest of the flight's events from `from`, as a stream for the renderers. A leader that fails or goes
   * silent errors the stream, so the follower's client sees an error event, never a clean but partial answer.
   */
  events(from: number, known?: FlightEnd): ReadableStream<StreamEvent> {
    let next = from;
    let end = known;
    return new ReadableStream<StreamEvent>({
      pull: async (controller) => {
        if (end) {
          if (end.kind === "failed") controller.error(fromSharedError(end.error));
          else controller.close();
          return;
        }
        const read = await this.#read(next, true);
        if ("failed" in read) return controller.error(interrupted(read.failed));
        if (read.events.length === 0 && !read.end) return controller.error(interrupted("the shared request made no progress in time"));
        for (const event of read.events) controller.enqueue(event);
        next = read.next;
        end = read.end;
        if (end && read.events.length === 0) {
          if (end.kind === "failed") controller.error(fromSharedError(end.error));
          else controller.close();
        }
      },
    });
  }
}

const interrupted = (reason: string) =>
  new GatewayError({ status: 502, type: "upstream_error", code: "stream_interrupted", message: `The stream this request shared broke off before it was complete: ${reason}.` });
