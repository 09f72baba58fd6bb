import type { Context } from "hono";
import { coalescerName, joinFlight, type FlightFollower, type FlightPublisher } from "../cache/coalesce";
import { newCacheEntry, type AnsweringTarget } from "../cache/entry";
import { fromSharedError } from "../cache/flight";
import { cacheKeyFor } from "../cache/key";
import { CACHE_HEADER, COALESCED_HEADER, type CachePolicy } from "../cache/options";
import { ResultCapture, eventsOfResult, streamOf } from "../cache/replay";
import { KV_MAX_VALUE_BYTES, ResponseStore } from "../cache/store";
import type { Target } from "../config/schema";
import { GatewayError } from "../lib/errors";
import type { ChatRequest, ChatResult } from "../schema/internal";
import type { AppEnv } from "../types";
import type { ChatSuccess } from "./attempt";
import { respondWithEvents, respondWithResult } from "./respond";

/** A flight that completed this recently still answers identical requests (the gap until its cache write lands). */
const REUSE_COMPLETED_FLIGHT_MS = 10_000;

type CachedScope = {
  c: Context<AppEnv>;
  request: ChatRequest;
  policy: CachePolicy;
  workspaceId: string;
  hash: string;
  store: ResponseStore;
};

/** The response headers this layer adds: the cache status on cache-enabled requests, and whether it was coalesced. */
function cacheHeaders(c: Context<AppEnv>): Record<string, string> {
  const record = c.get("record");
  const headers: Record<string, string> = {};
  if (record.cacheStatus) headers[CACHE_HEADER] = record.cacheStatus;
  if (record.coalesced) headers[COALESCED_HEADER] = "true";
  return headers;
}

/** Error responses carry the cache headers too: the header is on every response of a cache-enabled request. */
function withCacheHeaders(c: Context<AppEnv>, error: unknown): unknown {
  if (!(error instanceof GatewayError)) return error;
  const headers = cacheHeaders(c);
  if (Object.keys(headers).length === 0) return error;
  return new GatewayError({ status: error.status, type: error.type, code: error.code, param: error.param, message: error.message, ...(error.provider ? { provider: error.provider } : {}), headers: { ...error.headers, ...headers } });
}

/** A stored or shared answer, rendered for this request: JSON, or replayed as the stream the client would get. */
function serveComplete(c: Context<AppEnv>, request: ChatRequest, result: ChatResult, target: AnsweringTarget): Response {
  c.get("record").answeredBy = { provider: target.provider, model: target.model };
  if (!request.stream) return respondWithResult(c, result, cacheHeaders(c));
  return respondWithEvents(c, request, [], streamOf(eventsOfResult(result)).getReader(), {}, cacheHeaders(c), target.provider);
}

function storable(result: ChatResult, cache: NonNullable<CachePolicy["cache"]>): boolean {
  return result.toolCalls.length === 0 || cache.storeToolCalls;
}

/**
 * A chat request with the response cache and/or coalescing on: look the request up (Cache API, then KV), else
 * join the flight of identical in-flight requests — follow its leader, or lead and share — else call upstream,
 * and store a complete answer after the client has it. Cache and coalescing failures only ever cost a miss.
 */
export async function serveCachedChat(c: Context<AppEnv>, request: ChatRequest, primary: Target, policy: CachePolicy, callUpstream: () => Promise<ChatSuccess>): Promise<Response> {
  const record = c.get("record");
  const workspaceId = c.get("workspaceId");
  const hash = await cacheKeyFor(workspaceId, primary, request, { includeUser: policy.cache?.includeUser ?? false });
  const scope: CachedScope = { c, request, policy, workspaceId, hash, store: new ResponseStore(c.env.CACHE_KV) };
  if (policy.cache) record.cacheStatus = policy.cache.status;
  try {
    if (policy.cache?.read) {
      const hit = await scope.store.lookup(workspaceId, hash);
      if (hit) {
        record.cacheStatus = "HIT";
        if (hit.writeBack) record.onSettle(hit.writeBack);
        return serveComplete(c, request, hit.entry.result, hit.entry.target);
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
      const followed = await follow(c, request, flight.follower);
      if (followed) return followed;
    }
    return await serveMiss(scope, callUpstream, flight?.role === "leader" ? flight.publisher : undefined);
  } catch (error) {
    throw withCacheHeaders(c, error);
  }
}

/**
 * Serves a follower from its leader's flight. Undefined when the follower must go its own way: the leader failed
 * in a way an own attempt may not, went silent, or the flight was lost — and nothing was sent to the client yet.
 */
async function follow(c: Context<AppEnv>, request: ChatRequest, follower: FlightFollower): Promise<Response | undefined> {
  const record = c.get("record");
  const outcome = request.stream ? await follower.head() : await follower.outcome();
  if (outcome.kind === "abandoned") return undefined;
  if (outcome.kind === "end") {
    if (outcome.end.kind === "failed" && !outcome.end.shareable) return undefined;
    record.coalesced = true;
    if (outcome.end.kind === "failed") throw fromSharedError(outcome.end.error);
    return serveComplete(c, request, outcome.end.result, outcome.end.target);
  }
  // Committed: the first events are in hand. From here a failure of the leader reaches the client as an error event.
  record.coalesced = true;
  if (outcome.target) record.answeredBy = outcome.target;
  const rest = follower.events(outcome.next, outcome.end).getReader();
  return respondWithEvents(c, request, outcome.events, rest, {}, cacheHeaders(c), outcome.target?.provider);
}

/** Calls upstream (as the flight's leader when there is one), answers, and stores a complete answer afterwards. */
async function serveMiss(scope: CachedScope, callUpstream: () => Promise<ChatSuccess>, publisher: FlightPublisher | undefined): Promise<Response> {
  const { c, request, policy } = scope;
  const record = c.get("record");
  let success: ChatSuccess;
  try {
    success = await callUpstream();
  } catch (error) {
    publisher?.fail(error);
    throw error;
  }
  const target: AnsweringTarget = { provider: success.prepared.target.provider, model: success.prepared.target.model };
  let completed: ChatResult | undefined;
  const cache = policy.cache;
  if (cache?.write) {
    record.onSettle(async () => {
      if (completed && storable(completed, cache)) await scope.store.store(scope.workspaceId, scope.hash, newCacheEntry(completed, target, cache.ttlSeconds));
    });
  }
  publisher?.target(target);
  if (success.kind === "complete") {
    completed = success.result;
    publisher?.complete(success.result, target, cache?.write === true && storable(success.result, cache), eventsOfResult(success.result));
    return respondWithResult(c, success.result, cacheHeaders(c));
  }
  const capture = new ResultCapture({ limitChars: KV_MAX_VALUE_BYTES });
  return respondWithEvents(
    c,
    request,
    success.head,
    success.rest,
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
    cacheHeaders(c),
    target.provider,
  );
}

const tooLargeToShare = () => new GatewayError({ status: 502, type: "upstream_error", code: "stream_interrupted", message: "The answer this request shared was too large to share." });

const leaderLeft = () =>
  new GatewayError({ status: 502, type: "upstream_error", code: "stream_interrupted", message: "The request this one shared was cancelled by its client before the answer was complete." });


