import type { Context } from "hono";
import { coalescerName, joinFlight, type FlightFollower, type FlightPublisher } from "../cache/coalesce";
import { newCacheEntry } from "../cache/entry";
import { fromSharedError } from "../cache/flight";
import { cacheKeyFor } from "../cache/key";
import { CACHE_HEADER, COALESCED_HEADER, type CachePolicy } from "../cache/options";
import { ResultCapture, eventsOfResult, streamOf } from "../cache/replay";
import { KV_MAX_VALUE_BYTES, ResponseStore } from "../cache/store";
import type { Target } from "../config/schema";
import { GatewayError } from "../lib/errors";
import type { ChatRequest, ChatResult } from "../schema/internal";
import type { AfterResponse, Answer, AnsweringTarget, CacheStatus } from "../settle/record";
import type { AppEnv } from "../types";
import type { ChatSuccess } from "./attempt";
import { respondWithEvents, respondWithResult, type Responding } from "./respond";

/** A flight that completed this recently still answers identical requests (the gap until its cache write lands). */
const REUSE_COMPLETED_FLIGHT_MS = 10_000;

/** An upstream success and who gave it: what `runAttempts` returns. */
export type UpstreamAnswer = { success: ChatSuccess; answer: Answer };

/** What the cached path hands back to the serving step: the response, who answered it, and the cache writes to make after it. */
export type CachedResponse = { response: Response; answer: Answer | undefined; after: AfterResponse[] };

type CachedScope = {
  c: Context<AppEnv>;
  request: ChatRequest;
  policy: CachePolicy;
  workspaceId: string;
  hash: string;
  store: ResponseStore;
  responding: Omit<Responding, "answeredBy">;
};

type Served = { status: CacheStatus | undefined; coalesced: boolean };

/** The response headers this layer adds: the cache status on cache-enabled requests, and whether it was coalesced. */
function cacheHeaders(served: Served): Record<string, string> {
  const headers: Record<string, string> = {};
  if (served.status) headers[CACHE_HEADER] = served.status;
  if (served.coalesced) headers[COALESCED_HEADER] = "true";
  return headers;
}

/** Error responses carry the cache headers too: the header is on every response of a cache-enabled request. */
function withCacheHeaders(served: Served, error: unknown): unknown {
  if (!(error instanceof GatewayError)) return error;
  const headers = cacheHeaders(served);
  if (Object.keys(headers).length === 0) return error;
  return new GatewayError({ status: error.status, type: error.type, code: error.code, param: error.param, message: error.message, ...(error.provider ? { provider: error.provider } : {}), headers: { ...error.headers, ...headers } });
}

/** A stored or shared answer, rendered for this request: JSON, or replayed as the stream the client would get. */
function serveComplete(scope: CachedScope, result: ChatResult, answer: Answer, served: Served): CachedResponse {
  const { c, request } = scope;
  const responding = { ...scope.responding, answeredBy: answer.target };
  if (!request.stream) return { response: respondWithResult(c, result, responding, cacheHeaders(served)), answer, after: [] };
  return { response: respondWithEvents(c, request, [], streamOf(eventsOfResult(result)).getReader(), responding, {}, cacheHeaders(served)), answer, after: [] };
}

function storable(result: ChatResult, cache: NonNullable<CachePolicy["cache"]>): boolean {
  return result.toolCalls.length === 0 || cache.storeToolCalls;
}

const targetOf = (target: AnsweringTarget): AnsweringTarget => ({ provider: target.provider, model: target.model });

/**
 * A chat request with the response cache and/or coalescing on: look the request up (Cache API, then KV), else
 * join the flight of identical in-flight requests — follow its leader, or lead and share — else call upstream,
 * and store a complete answer after the client has it (registered with the request's after-response work).
 * Returns the response and who answered: the cache, a coalesced flight, or this request's own upstream call.
 * Cache and coalescing failures only ever cost a miss.
 */
export async function serveCachedChat(
  c: Context<AppEnv>,
  request: ChatRequest,
  primary: Target,
  policy: CachePolicy,
  responding: Omit<Responding, "answeredBy">,
  callUpstream: () => Promise<UpstreamAnswer>,
): Promise<CachedResponse> {
  const workspaceId = c.get("workspaceId");
  const hash = await cacheKeyFor(workspaceId, primary, request, { includeUser: policy.cache?.includeUser ?? false });
  const scope: CachedScope = { c, request, policy, workspaceId, hash, store: new ResponseStore(c.env.CACHE_KV), responding };
  const served: Served = { status: policy.cache?.status, coalesced: false };
  try {
    if (policy.cache?.read) {
      const hit = await scope.store.lookup(workspaceId, hash);
      if (hit) {
        const served = serveComplete(scope, hit.entry.result, { target: targetOf(hit.entry.target), source: "cache" }, { status: "HIT", coalesced: false });
        const { writeBack } = hit;
        return writeBack ? { ...served, after: [() => writeBack()] } : served;
      }
    }
    const flight = policy.coalesce
      ? await joinFlight(
          c.env.REQUEST_COALESCER,
          coalescerName(workspaceId, hash),
          { maxWaitMs: policy.coalesce.maxWaitMs, reuseCompletedMs: policy.cache ? Math.min(REUSE_COMPLETED_FLIGHT_MS, policy.cache.ttlSeconds * 1_000) : 0 },
          (promise) => c.executionCtx.waitUntil(promise),
        )
      : undefined;
    if (flight?.role === "follower") {
      const followed = await follow(scope, flight.follower, served);
      if (followed) return followed;
    }
    return await serveMiss(scope, callUpstream, flight?.role === "leader" ? flight.publisher : undefined, served);
  } catch (error) {
    throw withCacheHeaders(served, error);
  }
}

/**
 * Serves a follower from its leader's flight. Undefined when the follower must go its own way: the leader failed
 * in a way an own attempt may not, went silent, or the flight was lost — and nothing was sent to the client yet.
 */
async function follow(scope: CachedScope, follower: FlightFollower, served: Served): Promise<CachedResponse | undefined> {
  const { c, request } = scope;
  const outcome = request.stream ? await follower.head() : await follower.outcome();
  if (outcome.kind === "abandoned") return undefined;
  if (outcome.kind === "end") {
    if (outcome.end.kind === "failed" && !outcome.end.shareable) return undefined;
    served.coalesced = true;
    if (outcome.end.kind === "failed") throw fromSharedError(outcome.end.error);
    return serveComplete(scope, outcome.end.result, { target: targetOf(outcome.end.target), source: "coalesced" }, served);
  }
  // Committed: the first events are in hand. From here a failure of the leader reaches the client as an error event.
  served.coalesced = true;
  const rest = follower.events(outcome.next, outcome.end).getReader();
  const answer: Answer | undefined = outcome.target ? { target: targetOf(outcome.target), source: "coalesced" } : undefined;
  const response = respondWithEvents(c, request, outcome.events, rest, { ...scope.responding, answeredBy: answer?.target }, {}, cacheHeaders(served));
  // A leader that never named its target leaves the follower without one (it counts as unanswered).
  return { response, answer, after: [] };
}

/** Calls upstream (as the flight's leader when there is one), answers, and stores a complete answer afterwards. */
async function serveMiss(scope: CachedScope, callUpstream: () => Promise<UpstreamAnswer>, publisher: FlightPublisher | undefined, served: Served): Promise<CachedResponse> {
  const { c, request, policy } = scope;
  let upstream: UpstreamAnswer;
  try {
    upstream = await callUpstream();
  } catch (error) {
    publisher?.fail(error);
    throw error;
  }
  const { success, answer } = upstream;
  const target: AnsweringTarget = answer.target;
  const responding = { ...scope.responding, answeredBy: target };
  let completed: ChatResult | undefined;
  const cache = policy.cache;
  const after: AfterResponse[] = [];
  if (cache?.write) {
    after.push(async () => {
      if (completed && storable(completed, cache)) await scope.store.store(scope.workspaceId, scope.hash, newCacheEntry(completed, target, cache.ttlSeconds));
    });
  }
  publisher?.target(target);
  if (success.kind === "complete") {
    completed = success.result;
    publisher?.complete(success.result, target, cache?.write === true && storable(success.result, cache), eventsOfResult(success.result));
    return { response: respondWithResult(c, success.result, responding, cacheHeaders(served)), answer, after };
  }
  const capture = new ResultCapture({ limitChars: KV_MAX_VALUE_BYTES });
  const response = respondWithEvents(
    c,
    request,
    success.head,
    success.rest,
    responding,
    {
      onEvent: (event) => {
        capture.add(event);
        publisher?.push(event);
      },
      onEnd: (end) => {
        if (end.outcome !== "complete") return publisher?.fail(end.outcome === "error" ? end.error : leaderLeft());
        completed = capture.result;
        if (completed) publisher?.complete(completed, target, cache?.write === true && storable(completed, cache));
        else publisher?.fail(tooLargeToShare());
      },
    },
    cacheHeaders(served),
  );
  return { response, answer, after };
}

const tooLargeToShare = () => new GatewayError({ status: 502, type: "upstream_error", code: "stream_interrupted", message: "The answer this request shared was too large to share." });

const leaderLeft = () =>
  new GatewayError({ status: 502, type: "upstream_error", code: "stream_interrupted", message: "The request this one shared was cancelled by its client before the answer was complete." });


