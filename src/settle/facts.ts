import type { AnsweringTarget } from "../cache/entry";
import type { GatewayConfig } from "../config/schema";
import type { AttemptOutcome } from "../routing/retry";
import type { RequestEstimate } from "../usage/estimate";
import type { ResponseAccount } from "./account";

/** The values the serving steps hand to the request record, and the settle step reads (src/settle/record.ts, settle.ts). */

export type AttemptRecord = {
  provider: string;
  model: string;
  status: number | null;
  outcome: AttemptOutcome;
  latencyMs: number;
  errorClass?: string;
};

export type RequestOutcome = "success" | "error" | "aborted";

export type CacheStatus = "HIT" | "MISS" | "REFRESH" | "BYPASS";

export type { AnsweringTarget };

/**
 * The attempt loop's output: every attempt in order and the time spent waiting on upstream. Only the loop
 * (src/pipeline/execute.ts, src/pipeline/attempt.ts) appends to it; on failure it is all that is left of the loop.
 */
export class AttemptLog {
  readonly attempts: AttemptRecord[] = [];
  upstreamMs = 0;
}

/** What is decided before the upstream call: the request's shape, the route planning returned, the one estimate. */
export type Serving = {
  operation: "chat" | "responses" | "embeddings";
  stream: boolean;
  route: string | undefined;
  estimate: RequestEstimate;
  /** The workspace's config: its prices settle the cost. */
  config: GatewayConfig;
  /** The response cache's status for this request before any answer (HIT is an answer: see `Answer`). */
  cacheStatus: Exclude<CacheStatus, "HIT"> | undefined;
  log: AttemptLog;
  account: ResponseAccount;
};

/** Who answered and from where: returned by the step that produced the answer. */
export type Answer = { target: AnsweringTarget; source: "upstream" | "cache" | "coalesced" };
