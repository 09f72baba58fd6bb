import type { UsageEvent } from "../usage/event";
import type { KeyRecord } from "./keys";

/**
 * A line of a gateway-run batch enters the pipeline as an ordinary request to its endpoint, made inside the
 * Worker by the batch-lines consumer (src/batches/line-consumer.ts), never over the network. Who makes it is
 * recorded here against the Request object itself: nothing a client sends can claim to be a batch line, and the
 * entry disappears with the request. Authentication (src/policy/auth.ts) takes the caller's key from here instead
 * of a header; admission runs it at background priority (src/policy/limits.ts); its usage event is keyed by
 * batch and line and handed back to the consumer (src/usage/record-usage.ts).
 */
export type BatchLineCaller = {
  workspaceId: string;
  /** The key that created the batch, as it is now (resolved by the consumer; limits and allow-list apply). */
  key: KeyRecord;
  batchId: string;
  index: number;
  /** Receives the line's usage event once the request has settled (not for a deferred line, which sends none). */
  onSettled: (event: UsageEvent) => void;
};

/**
 * On the response to a batch line that admission deferred for lack of spare capacity (src/policy/limits.ts): the
 * milliseconds after which the key may have room again, or `never` when the line can never fit in what batch
 * lines may use. The line has not run; only the consumer sees this response.
 */
export const BACKGROUND_DEFERRAL_HEADER = "x-switchyard-batch-deferred";

const callers = new WeakMap<Request, BatchLineCaller>();

/** Marks `request` as a batch line made by `caller`. */
export function asBatchLine(request: Request, caller: BatchLineCaller): Request {
  callers.set(request, caller);
  return request;
}

export const batchLineCallerOf = (request: Request): BatchLineCaller | undefined => callers.get(request);
