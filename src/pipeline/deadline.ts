/** Which of an attempt's timeouts fired. */
export type TimeoutPhase = "connect" | "first byte" | "total";

/** What one attempt gets from the executor: the signal for its upstream fetch, and the moments it must report. */
export type AttemptControl = {
  /** Aborted when a timeout fires or the client goes away; pass it to the upstream fetch. */
  signal: AbortSignal;
  /** The upstream's response headers arrived: the connect timeout no longer applies. */
  onHeaders: () => void;
  /** The first stream event arrived (or, non-streamed, the response): the first-byte timeout no longer applies. */
  onFirstByte: () => void;
};

export type AttemptLimits = { connectMs?: number | undefined; firstByteMs?: number | undefined; totalMs: number };

/**
 * The timeouts of one upstream attempt. Each fires by aborting the attempt's fetch (so the upstream call is
 * really cancelled) and by rejecting `expiry`, which the executor races against the attempt so it moves on even
 * if a body read ignores the abort. Timers are cleared as their phase passes and by `dispose()`; nothing here
 * can abort a stream after the attempt has been committed to.
 */
export class AttemptTimer {
  readonly signal: AbortSignal;
  readonly expiry: Promise<never>;
  #expired: { phase: TimeoutPhase; ms: number } | undefined;
  readonly #controller = new AbortController();
  readonly #timers = new Map<TimeoutPhase, ReturnType<typeof setTimeout>>();
  #reject!: (reason: unknown) => void;

  constructor(limits: AttemptLimits, clientSignal?: AbortSignal) {
    this.signal = clientSignal ? AbortSignal.any([this.#controller.signal, clientSignal]) : this.#controller.signal;
    this.expiry = new Promise<never>((_, reject) => (this.#reject = reject));
    this.expiry.catch(() => undefined);
    if (limits.connectMs !== undefined) this.#arm("connect", limits.connectMs);
    if (limits.firstByteMs !== undefined) this.#arm("first byte", limits.firstByteMs);
    this.#arm("total", Math.max(0, limits.totalMs));
  }

  /** Which timeout fired, if one did. */
  get expired(): { phase: TimeoutPhase; ms: number } | undefined {
    return this.#expired;
  }

  get control(): AttemptControl {
    return { signal: this.signal, onHeaders: () => this.#clear("connect"), onFirstByte: () => this.#clear("first byte") };
  }

  #arm(phase: TimeoutPhase, ms: number): void {
    this.#timers.set(
      phase,
      setTimeout(() => {
        if (this.#expired) return;
        this.#expired = { phase, ms };
        this.#controller.abort(new DOMException(`${phase} timeout of ${ms} ms`, "TimeoutError"));
        this.#reject(this.#controller.signal.reason);
      }, ms),
    );
  }

  #clear(phase: TimeoutPhase): void {
    const timer = this.#timers.get(phase);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(phase);
  }

  dispose(): void {
    for (const phase of [...this.#timers.keys()]) this.#clear(phase);
  }
}

/** Waits `ms`, or less when the client goes away (the caller checks `signal.aborted`). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
