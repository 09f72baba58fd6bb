import type { GuardrailTally } from "../guardrails/tally";
import type { AttemptOutcome } from "../routing/retry";
import type { Usage } from "../schema/internal";
import { emptyUsage } from "../schema/internal";

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

/**
 * Everything the gateway learns about one request while serving it. Handlers fill it in; when the response is
 * complete (for streams: when the last byte went out, or the client left) `finish()` is called once, and the
 * settle step (usage events, cache writes, circuit outcomes) runs from it in `waitUntil`.
 */
export class RequestRecord {
  readonly requestId: string;
  readonly startedAt: number;
  /** Wall-clock start (ms since the epoch), for the usage event's time. */
  readonly startedAtMs = Date.now();
  upstreamMs = 0;
  attempts: AttemptRecord[] = [];
  workspaceId: string | undefined;
  keyId: string | undefined;
  route: string | undefined;
  answeredBy: { provider: string; model: string } | undefined;
  usage: Usage = emptyUsage();
  stream = false;
  operation: "chat" | "embeddings" = "chat";
  firstByteMs: number | undefined;
  /** Set by the response cache on cache-enabled requests. */
  cacheStatus: CacheStatus | undefined;
  /** Served from another identical in-flight request's upstream call. */
  coalesced = false;
  status = 200;
  outcome: RequestOutcome | undefined;
  errorType: string | undefined;
  /** Set once the response headers are ready: the gateway's own time up to then, excluding upstream waits. */
  overheadMs = 0;
  /** Streams: the provider's final usage report arrived; without it the usage event carries an estimate. */
  finalUsageSeen = false;
  /** Characters of the prompt and of the streamed completion: the estimate's basis when the final usage is missing. */
  promptChars = 0;
  completionChars = 0;
  /** Prompt and completion text, only when the workspace turned on `logging.bodies` (captured by src/usage/observe.ts). */
  bodies: { request: string; response: string; truncated: boolean } | undefined;
  /** What the request's guardrails did, per rule (src/guardrails/), when its policy has any. */
  guardrails: GuardrailTally | undefined;
  #endedMs: number | undefined;

  readonly #settlers: ((record: RequestRecord) => Promise<void> | void)[] = [];
  #resolveFinished!: () => void;
  readonly finished: Promise<void> = new Promise((resolve) => (this.#resolveFinished = resolve));

  constructor(requestId: string, startedAt: number) {
    this.requestId = requestId;
    this.startedAt = startedAt;
  }

  /** Registers work to run after the response is complete (never on the client's path). */
  onSettle(settler: (record: RequestRecord) => Promise<void> | void): void {
    this.#settlers.push(settler);
  }

  /** The client has its whole response (or left): total latency stops here even if settling drains on. */
  markEnded(): void {
    this.#endedMs ??= performance.now() - this.startedAt;
  }

  finish(outcome: RequestOutcome, errorType?: string): void {
    if (this.outcome) return;
    this.markEnded();
    this.outcome = outcome;
    this.errorType = errorType;
    this.#resolveFinished();
  }

  /** Runs every settler once the request has finished; a failing settler never affects the others. */
  async settle(): Promise<void> {
    await this.finished;
    await Promise.allSettled(this.#settlers.map(async (settle) => settle(this)));
  }

  /** A first attempt failed and the request still succeeded. */
  get rescued(): boolean {
    return this.outcome === "success" && this.attempts.length > 1 && this.attempts[0]!.outcome !== "success";
  }

  get totalMs(): number {
    return this.#endedMs ?? performance.now() - this.startedAt;
  }
}
