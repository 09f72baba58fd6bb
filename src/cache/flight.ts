import { GatewayError } from "../lib/errors";
import type { ChatResult, StreamEvent } from "../schema/internal";
import type { AnsweringTarget } from "./entry";

/**
 * The protocol between a request and the RequestCoalescer Durable Object of its key. A "flight" is one upstream
 * call shared by identical requests: the first request to join is its leader and publishes the internal events
 * as they arrive, the others follow by reading them. Values cross the RPC boundary by structured clone.
 */

/** A GatewayError as plain data (class instances do not survive RPC). */
export type SharedError = {
  status: number;
  type: string;
  code: string | null;
  param: string | null;
  message: string;
  provider?: string;
  headers: Record<string, string>;
};

export type FlightEnd =
  /** `reusable`: the answer may serve requests arriving after the end (it is being cached); else only those in flight. */
  | { kind: "complete"; result: ChatResult; target: AnsweringTarget; reusable: boolean }
  /** `shareable`: the followers would get the same error by calling themselves, so they fail with it instead. */
  | { kind: "failed"; error: SharedError; shareable: boolean };

export type JoinOptions = {
  /** A flight whose leader made no progress for this long is abandoned: the joiner leads a new one. */
  maxWaitMs: number;
  /** A flight that completed less than this long ago still serves joiners (0: only flights still in the air). */
  reuseCompletedMs: number;
};

/** The leader's `ticket` proves it is the one allowed to publish to its flight. */
export type JoinResult = { role: "leader"; flight: string; ticket: string } | { role: "follower"; flight: string };

/** What a leader publishes at once: the events since its last batch, who answers (once known), and last the end. */
export type FlightBatch = { events: StreamEvent[]; target?: AnsweringTarget; end?: FlightEnd };

export type ReadResult = {
  /** Index of the next event to ask for. */
  next: number;
  /** Events from the requested index (empty when `withEvents` was false). */
  events: StreamEvent[];
  /** Who answers, once the leader's upstream call succeeded. */
  target?: AnsweringTarget;
  end?: FlightEnd;
  /** The flight is unknown to the object (it was restarted, or the flight is long gone). */
  lost?: true;
};

export const toSharedError = (error: GatewayError): SharedError => ({
  status: error.status,
  type: error.type,
  code: error.code,
  param: error.param,
  message: error.message,
  ...(error.provider !== undefined ? { provider: error.provider } : {}),
  headers: { ...error.headers },
});

export const fromSharedError = (error: SharedError): GatewayError => new GatewayError(error);

/**
 * Whether an identical request would fail the same way: an error about the request itself (400, 404, 413, 422…).
 * Rate limits, timeouts and upstream failures are not shared: a follower tries for itself.
 */
export const isShareableFailure = (error: GatewayError): boolean => error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 409 && error.status !== 429;
