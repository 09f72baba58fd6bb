import { Pool } from "undici";

/**
 * The load generator: N connections, each sending its next request as soon as the previous response has been
 * read completely (closed loop), over undici's pool — the HTTP client Node's own fetch is built on. Latency is
 * measured per request with sub-millisecond resolution, from sending to the last body byte; for streams also to
 * the first body byte (time to first token). A `LoadTarget` keeps its connections between runs, so the benchmark
 * can interleave short slices of every case (background load then spreads over all cases alike).
 */
export type RequestShape = {
  origin: string;
  path: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** The request body; a function gives every request its own (cache misses). */
  body?: string | ((sequence: number) => string);
  /** Counts the values of this response header (e.g. `x-switchyard-cache`). */
  countHeader?: string;
};

export type Percentiles = { p50: number; p90: number; p99: number; mean: number; max: number };

export type LoadStats = {
  requests: number;
  errors: number;
  /** Non-2xx responses by status. */
  statuses: Record<string, number>;
  durationMs: number;
  rps: number;
  latencyMs: Percentiles;
  firstByteMs: Percentiles;
  headerCounts: Record<string, number>;
  firstError?: string;
};

export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, mean: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  let sum = 0;
  for (const value of sorted) sum += value;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: sum / sorted.length, max: sorted[sorted.length - 1]! };
}

/** Raw figures of one or more runs; merged before percentiles are taken. */
export class Tally {
  latencies: number[] = [];
  firstBytes: number[] = [];
  errors = 0;
  statuses: Record<string, number> = {};
  headerCounts: Record<string, number> = {};
  firstError: string | undefined;
  durationMs = 0;

  add(other: Tally): this {
    for (const value of other.latencies) this.latencies.push(value);
    for (const value of other.firstBytes) this.firstBytes.push(value);
    this.errors += other.errors;
    for (const [key, n] of Object.entries(other.statuses)) this.statuses[key] = (this.statuses[key] ?? 0) + n;
    for (const [key, n] of Object.entries(other.headerCounts)) this.headerCounts[key] = (this.headerCounts[key] ?? 0) + n;
    this.firstError ??= other.firstError;
    this.durationMs += other.durationMs;
    return this;
  }

  stats(): LoadStats {
    const requests = this.latencies.length;
    return {
      requests,
      errors: this.errors,
      statuses: this.statuses,
      durationMs: this.durationMs,
      rps: this.durationMs > 0 ? (requests / this.durationMs) * 1000 : 0,
      latencyMs: percentiles(this.latencies),
      firstByteMs: percentiles(this.firstBytes),
      headerCounts: this.headerCounts,
      ...(this.firstError ? { firstError: this.firstError } : {}),
    };
  }
}

export class LoadTarget {
  readonly #shape: RequestShape;
  readonly #connections: number;
  readonly #pool: Pool;
  #sequence = 0;

  constructor(shape: RequestShape, connections: number) {
    this.#shape = shape;
    this.#connections = connections;
    this.#pool = new Pool(shape.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  /**
   * Runs the closed loop for `durationMs` after `warmupMs` (sent, not counted). `window` reports each window of
   * that length as it ends (soak mode).
   */
  async run(durationMs: number, warmupMs = 0, window?: { ms: number; onWindow: (stats: LoadStats) => void }): Promise<Tally> {
    const shape = this.#shape;
    const headerName = shape.countHeader?.toLowerCase();
    const countFrom = performance.now() + warmupMs;
    const endsAt = countFrom + durationMs;
    const total = new Tally();
    let current: Tally | undefined;
    let windowStartedAt = countFrom;
    const timers: NodeJS.Timeout[] = [];
    if (window) {
      timers.push(
        setTimeout(() => {
          current = new Tally();
          windowStartedAt = performance.now();
          timers.push(
            setInterval(() => {
              const finished = current!;
              finished.durationMs = performance.now() - windowStartedAt;
              current = new Tally();
              windowStartedAt = performance.now();
              window.onWindow(finished.stats());
            }, window.ms),
          );
        }, warmupMs),
      );
    }

    const one = async () => {
      const body = typeof shape.body === "function" ? shape.body(this.#sequence++) : shape.body;
      const sentAt = performance.now();
      let firstByteAt: number | undefined;
      const response = await this.#pool.request({ path: shape.path, method: shape.method ?? (body === undefined ? "GET" : "POST"), headers: shape.headers, body });
      for await (const _part of response.body) firstByteAt ??= performance.now();
      const doneAt = performance.now();
      if (sentAt < countFrom) return;
      for (const tally of current ? [total, current] : [total]) {
        if (response.statusCode >= 400) {
          tally.statuses[response.statusCode] = (tally.statuses[response.statusCode] ?? 0) + 1;
          tally.errors++;
          continue;
        }
        tally.latencies.push(doneAt - sentAt);
        if (firstByteAt !== undefined) tally.firstBytes.push(firstByteAt - sentAt);
        if (headerName) {
          const value = String(response.headers[headerName] ?? "(none)");
          tally.headerCounts[value] = (tally.headerCounts[value] ?? 0) + 1;
        }
      }
    };
    const loop = async () => {
      while (performance.now() < endsAt) {
        try {
          await one();
        } catch (error) {
          total.errors++;
          total.firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: this.#connections }, loop));
    for (const timer of timers) clearTimeout(timer);
    total.durationMs = Math.max(0, performance.now() - countFrom);
    return total;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
