import { Pool } from "undici";

/**
 * The load generator: N connections, each sending its next request as soon as the previous response has been
 * read completely (closed loop), over undici's pool — the HTTP client Node's own fetch is built on. Latency is
 * measured per request with sub-millisecond resolution, from sending to the last body byte; for streams also to
 * the first body byte (time to first token).
 */
export type LoadOptions = {
  origin: string;
  path: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** The request body; a function gives every request its own (cache misses). */
  body?: string | ((sequence: number) => string);
  connections: number;
  durationMs: number;
  /** Requests in this first stretch are sent but not counted (JIT, connection set-up, isolate caches). */
  warmupMs?: number;
  /** Counts the values of this response header (e.g. `x-switchyard-cache`). */
  countHeader?: string;
  /** Called with the figures of each window of this length (soak mode). */
  window?: { ms: number; onWindow: (stats: LoadStats) => void };
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

class Tally {
  latencies: number[] = [];
  firstBytes: number[] = [];
  errors = 0;
  statuses: Record<string, number> = {};
  headerCounts: Record<string, number> = {};
  firstError: string | undefined;
  startedAt = performance.now();

  stats(): LoadStats {
    const durationMs = performance.now() - this.startedAt;
    const requests = this.latencies.length;
    return {
      requests,
      errors: this.errors,
      statuses: this.statuses,
      durationMs,
      rps: (requests / durationMs) * 1000,
      latencyMs: percentiles(this.latencies),
      firstByteMs: percentiles(this.firstBytes),
      headerCounts: this.headerCounts,
      ...(this.firstError ? { firstError: this.firstError } : {}),
    };
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  const pool = new Pool(options.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const warmupEnds = performance.now() + (options.warmupMs ?? 0);
  const endsAt = warmupEnds + options.durationMs;
  let total: Tally | undefined;
  let window: Tally | undefined;
  let sequence = 0;
  const headerName = options.countHeader?.toLowerCase();

  const one = async () => {
    const body = typeof options.body === "function" ? options.body(sequence++) : options.body;
    const sentAt = performance.now();
    let firstByteAt: number | undefined;
    const response = await pool.request({ path: options.path, method: options.method ?? (body === undefined ? "GET" : "POST"), headers: options.headers, body });
    for await (const _part of response.body) firstByteAt ??= performance.now();
    const doneAt = performance.now();
    const tallies = [total, window].filter((t): t is Tally => t !== undefined);
    for (const tally of tallies) {
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

  const timers: NodeJS.Timeout[] = [];
  const startCounting = () => {
    total = new Tally();
    if (options.window) {
      window = new Tally();
      const { ms, onWindow } = options.window;
      timers.push(
        setInterval(() => {
          const finished = window!;
          window = new Tally();
          onWindow(finished.stats());
        }, ms),
      );
    }
  };
  if (options.warmupMs) timers.push(setTimeout(startCounting, options.warmupMs));
  else startCounting();

  const loop = async () => {
    while (performance.now() < endsAt) {
      try {
        await one();
      } catch (error) {
        if (total) {
          total.errors++;
          total.firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  for (const timer of timers) clearTimeout(timer);
  await pool.close();
  return (total ?? new Tally()).stats();
}
