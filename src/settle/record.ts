import type { GuardrailTally } from "../guardrails/tally";
import type { Answer, RequestOutcome, Serving } from "./facts";
import { settleRequest, type SettledRequest } from "./settle";

export { AttemptLog, type AnsweringTarget, type Answer, type AttemptRecord, type CacheStatus, type RequestOutcome, type Serving } from "./facts";

/** Work that runs after the response, with the request's settled cost and ending (usage event, limiter, cache write…). */
export type AfterResponse = (settled: SettledRequest) => Promise<void> | void;

/**
 * One request's state, each part handed over as a value by the step that decided it: identity and timing by
 * the request context, the serving facts by src/pipeline/serve.ts (from planning and the request), the answer by
 * whichever step produced it, the response's account by src/pipeline/respond.ts. When the response is complete
 * (streams: the last byte went out, or the client left) `finish` is called once; `settle` then computes the
 * request's tokens, cost and ending once (src/settle/settle.ts) and hands that same value to every task
 * registered with `after`. Nothing after the response runs any other way.
 */
export class RequestRecord {
  readonly requestId: string;
  /** The id the usage event is stored under: the gateway's own, since a client-sent x-request-id may repeat. */
  readonly eventId: string;
  /** The x-request-id the client sent, when it sent one. */
  readonly clientRequestId: string | null;
  /** performance.now() at entry. */
  readonly startedAt: number;
  /** Wall-clock start (ms since the epoch), for the usage event's time. */
  readonly startedAtMs = Date.now();
  #serving: Serving | undefined;
  #answer: Answer | undefined;
  #guardrails: GuardrailTally | undefined;
  #status = 200;
  #overheadMs = 0;
  #outcome: RequestOutcome | undefined;
  #errorType: string | undefined;
  #endedMs: number | undefined;
  readonly #tasks: AfterResponse[] = [];
  #resolveFinished!: () => void;
  readonly #finished = new Promise<void>((resolve) => (this.#resolveFinished = resolve));
  #resolveResponded!: () => void;
  /** The handler has returned: every value it hands over (the answer included) is in. */
  readonly #responded = new Promise<void>((resolve) => (this.#resolveResponded = resolve));

  constructor(identity: { requestId: string; eventId: string; clientRequestId: string | null }, startedAt: number) {
    this.requestId = identity.requestId;
    this.eventId = identity.eventId;
    this.clientRequestId = identity.clientRequestId;
    this.startedAt = startedAt;
  }

  /** The serving step's facts, once, before the upstream call. */
  serving(serving: Serving): void {
    this.#serving ??= serving;
  }

  /** The request's guardrails, as they are about to act (their tally fills as they do). */
  guarded(tally: GuardrailTally): void {
    this.#guardrails ??= tally;
  }

  /** Who answered (once: the first answer is the request's). */
  answered(answer: Answer): void {
    this.#answer ??= answer;
  }

  get answer(): Answer | undefined {
    return this.#answer;
  }

  /** Time waited on upstream so far (the overhead header subtracts it). */
  get upstreamMs(): number {
    return this.#serving?.log.upstreamMs ?? 0;
  }

  /** Registers work to run after the response is complete (never on the client's path). */
  after(task: AfterResponse): void {
    this.#tasks.push(task);
  }

  /** The response headers went out: its status and the gateway's own time up to then. */
  responded(status: number, overheadMs: number): void {
    this.#status = status;
    this.#overheadMs = overheadMs;
    this.#resolveResponded();
  }

  /** The client has its whole response (or left): total latency stops here even if settling drains on. */
  markEnded(): void {
    this.#endedMs ??= performance.now() - this.startedAt;
  }

  finish(outcome: RequestOutcome, errorType?: string): void {
    if (this.#outcome) return;
    this.markEnded();
    this.#outcome = outcome;
    this.#errorType = errorType;
    this.#resolveFinished();
  }

  get totalMs(): number {
    return this.#endedMs ?? performance.now() - this.startedAt;
  }

  /** Once the request has finished: its settlement, computed once, then every task with it; a failing task never affects the others. */
  async settle(): Promise<SettledRequest> {
    await Promise.all([this.#finished, this.#responded]);
    const settled = settleRequest({
      requestId: this.requestId,
      eventId: this.eventId,
      clientRequestId: this.clientRequestId,
      startedAtMs: this.startedAtMs,
      serving: this.#serving,
      answer: this.#answer,
      guardrails: this.#guardrails,
      status: this.#status,
      outcome: this.#outcome ?? "error",
      errorType: this.#errorType,
      totalMs: this.totalMs,
      overheadMs: this.#overheadMs,
    });
    const results = await Promise.allSettled(this.#tasks.map(async (task) => task(settled)));
    for (const result of results) {
      if (result.status === "rejected") console.error(JSON.stringify({ level: "error", message: "after-response task failed", requestId: this.requestId, error: result.reason instanceof Error ? result.reason.message : String(result.reason) }));
    }
    return settled;
  }
}
