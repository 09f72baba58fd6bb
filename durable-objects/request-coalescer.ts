import { DurableObject } from "cloudflare:workers";
import type { AnsweringTarget } from "../src/cache/entry";
import type { FlightBatch, FlightEnd, JoinOptions, JoinResult, ReadResult, SharedError } from "../src/cache/flight";
import type { StreamEvent } from "../src/schema/internal";

/** Ended flights are forgotten after this long: followers still reading them have had ample time. */
const ENDED_FLIGHT_RETENTION_MS = 60_000;
/** A flight buffering more than this stops taking new followers (they call upstream themselves). */
const MAX_BUFFERED_CHARS = 16 * 1024 * 1024;
/** One read returns at most this much, well under the RPC message limit (32 MiB). */
const MAX_READ_CHARS = 4 * 1024 * 1024;
/** A read never holds its caller longer than this, whatever it asks. */
const MAX_READ_WAIT_MS = 120_000;

type Flight = {
  id: string;
  leader: string;
  startedAt: number;
  /** Last time the leader published (or started): a leader silent past `maxWaitMs` is presumed gone. */
  updatedAt: number;
  events: StreamEvent[];
  sizes: number[];
  chars: number;
  target: AnsweringTarget | undefined;
  end: FlightEnd | undefined;
  endedAt: number | undefined;
  followers: number;
  wake: Set<() => void>;
};

const randomTicket = () => crypto.randomUUID();

const leaderGone = (message: string): SharedError => ({ status: 504, type: "upstream_error", code: "coalesce_leader_timeout", param: null, message, headers: {} });

/**
 * One per request key (`<workspace>:<hash>`): elects the leader of identical in-flight requests and fans its
 * result out to the followers as it arrives. State is in memory on purpose: a flight lives as long as its
 * requests, and a restarted object loses only the flights whose callers are then told (`lost`) and go their own way.
 */
export class RequestCoalescer extends DurableObject<Env> {
  readonly #flights = new Map<string, Flight>();
  #current: Flight | undefined;

  /** Joins the key's current flight as a follower, or starts a new one with the caller as its leader. */
  join(options: JoinOptions): JoinResult {
    const now = Date.now();
    this.#forgetOld(now);
    const current = this.#current;
    if (current && !current.end && now - current.updatedAt > options.maxWaitMs) {
      this.#finish(current, { kind: "failed", error: leaderGone("The request this one waited for made no progress in time."), shareable: false }, now);
    }
    if (current && current.chars <= MAX_BUFFERED_CHARS) {
      const reusable = current.end?.kind === "complete" && current.end.reusable && now - (current.endedAt ?? now) < options.reuseCompletedMs;
      if (!current.end || reusable) {
        current.followers++;
        return { role: "follower", flight: current.id };
      }
    }
    const flight: Flight = { id: randomTicket(), leader: randomTicket(), startedAt: now, updatedAt: now, events: [], sizes: [], chars: 0, target: undefined, end: undefined, endedAt: undefined, followers: 0, wake: new Set() };
    this.#flights.set(flight.id, flight);
    this.#current = flight;
    return { role: "leader", flight: flight.id, ticket: flight.leader };
  }

  /**
   * The leader adds events (and, last, the end). `accepted: false` tells a leader it is no longer one (its flight
   * was abandoned or forgotten): it stops publishing.
   */
  publish(flightId: string, ticket: string, batch: FlightBatch): { accepted: boolean } {
    const flight = this.#flights.get(flightId);
    if (!flight || flight.leader !== ticket || flight.end) return { accepted: false };
    const now = Date.now();
    const { events, end, target } = batch;
    if (target) flight.target = target;
    for (const event of events) {
      const size = JSON.stringify(event).length;
      flight.events.push(event);
      flight.sizes.push(size);
      flight.chars += size;
    }
    flight.updatedAt = now;
    if (end) this.#finish(flight, end, now);
    else this.#wakeAll(flight);
    return { accepted: true };
  }

  /**
   * Events from `from` on, and the end once there is one. When there is nothing new yet, waits up to `waitMs` for
   * the leader (a long poll): a follower learns of each batch as soon as it is published.
   */
  async read(flightId: string, from: number, waitMs: number, withEvents: boolean): Promise<ReadResult> {
    const flight = this.#flights.get(flightId);
    if (!flight) return { next: from, events: [], lost: true };
    if (from >= flight.events.length && !flight.end) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(Math.max(0, waitMs), MAX_READ_WAIT_MS));
        function done() {
          clearTimeout(timer);
          flight!.wake.delete(done);
          resolve();
        }
        flight.wake.add(done);
      });
    }
    const target = flight.target ? { target: flight.target } : {};
    if (!withEvents) return { next: flight.events.length, events: [], ...target, ...(flight.end ? { end: flight.end } : {}) };
    let next = from;
    let chars = 0;
    while (next < flight.events.length && (next === from || chars + flight.sizes[next]! <= MAX_READ_CHARS)) chars += flight.sizes[next++]!;
    const events = flight.events.slice(from, next);
    // The end goes out only with the last events, so a follower never sees it before everything before it.
    const end = next === flight.events.length ? flight.end : undefined;
    return { next, events, ...target, ...(end ? { end } : {}) };
  }

  /** What the object holds about its flights, for tests and debugging (no bodies). */
  describe(): { flights: { id: string; events: number; followers: number; ended: FlightEnd["kind"] | null }[]; current: string | null } {
    return {
      flights: [...this.#flights.values()].map((f) => ({ id: f.id, events: f.events.length, followers: f.followers, ended: f.end?.kind ?? null })),
      current: this.#current?.id ?? null,
    };
  }

  #finish(flight: Flight, end: FlightEnd, now: number): void {
    flight.end = end;
    flight.endedAt = now;
    this.#wakeAll(flight);
  }

  #wakeAll(flight: Flight): void {
    for (const wake of [...flight.wake]) wake();
  }

  #forgetOld(now: number): void {
    for (const [id, flight] of this.#flights) {
      if (flight.endedAt !== undefined && now - flight.endedAt > ENDED_FLIGHT_RETENTION_MS) {
        this.#flights.delete(id);
        if (this.#current === flight) this.#current = undefined;
      }
    }
  }
}
