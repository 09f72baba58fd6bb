import { TtlCache } from "../lib/ttl-cache";
import { circuitStateAt, type CircuitOutcome, type CircuitSnapshot } from "../routing/circuit";
import { HEALTHY, targetKey, type TargetHealth } from "../routing/plan";
import type { CircuitBreakerSettings, Target } from "../routing/schema";

/**
 * The isolate's view of circuit-breaker state. Planning reads it synchronously; the Durable Objects are only
 * reached from the settle step (`waitUntil`): outcomes are reported there, and stale or unknown entries are
 * refreshed there. A target never seen by this isolate counts as healthy until the refresh lands.
 */

/** An entry older than this is refreshed after the request (stale-while-revalidate). */
export const CIRCUIT_REFRESH_AFTER_MS = 1_000;
/** How long an entry may be used at all; also bounds how long an unrefreshed open circuit is believed. */
const CIRCUIT_CACHE_TTL_MS = 60_000;
/**
 * Outcomes of one target are batched per isolate: the request that opens a batch sends it this long after its
 * response, with whatever other requests added meanwhile — at most one breaker call per target and isolate per
 * window, however busy the target is.
 */
export const CIRCUIT_BATCH_MS = 50;

type Entry = { snapshot: CircuitSnapshot; fetchedAt: number };
const cache = new TtlCache<Entry>({ ttlMs: CIRCUIT_CACHE_TTL_MS, maxEntries: 2_000 });
/** A batch whose sender has not sent it after this long (its request never settled) is taken over by the next. */
const BATCH_TAKEOVER_MS = 5_000;
/** The most outcomes one batch carries; older ones are dropped first (the breaker's call accepts 1,000). */
const BATCH_MAX_OUTCOMES = 500;

type Batch = { outcomes: CircuitOutcome[]; openedAt: number };
/** Open outcome batches by circuit name (bounded by the targets in use; each lives about CIRCUIT_BATCH_MS). */
const batches = new Map<string, Batch>();
/** Circuits being refreshed by some request of this isolate: one refresh at a time each. */
const refreshing = new Set<string>();

/** One Durable Object per workspace, provider and model: providers (base URL, key) are per workspace. */
export const circuitName = (workspaceId: string, target: Target): string => `${workspaceId}/${targetKey(target)}`;

export class CircuitView {
  readonly #env: Env;
  readonly #workspaceId: string;
  readonly #settings: CircuitBreakerSettings;
  readonly #stale = new Set<string>();
  /** Batches this request opened, and so sends. */
  readonly #opened = new Set<string>();

  constructor(env: Env, workspaceId: string, settings: CircuitBreakerSettings) {
    this.#env = env;
    this.#workspaceId = workspaceId;
    this.#settings = settings;
  }

  /** Health for planning, from isolate memory only. */
  health(target: Target, now = Date.now()): TargetHealth {
    const name = circuitName(this.#workspaceId, target);
    const entry = cache.get(name, now);
    if (!entry || now - entry.fetchedAt >= CIRCUIT_REFRESH_AFTER_MS) this.#stale.add(name);
    if (!entry) return HEALTHY;
    const open = this.#settings.enabled && circuitStateAt(entry.snapshot, now, this.#settings) === "open";
    return { open, lastFailureAt: entry.snapshot.lastFailureAt, latencyMs: entry.snapshot.latencyMs };
  }

  /** Notes an attempt's outcome; it reaches the target's Durable Object after the response. */
  report(target: Target, outcome: CircuitOutcome): void {
    const name = circuitName(this.#workspaceId, target);
    const batch = batches.get(name);
    if (!batch) {
      batches.set(name, { outcomes: [outcome], openedAt: outcome.at });
      this.#opened.add(name);
      return;
    }
    batch.outcomes.push(outcome);
    if (batch.outcomes.length > BATCH_MAX_OUTCOMES) batch.outcomes.shift();
    if (outcome.at - batch.openedAt > BATCH_TAKEOVER_MS) {
      batch.openedAt = outcome.at;
      this.#opened.add(name);
    }
  }

  /** The settle step: send the batches this request opened, refresh stale entries, and cache the answers. */
  async settle(): Promise<void> {
    const calls: Promise<void>[] = [];
    if (this.#opened.size > 0) {
      const opened = [...this.#opened];
      calls.push(
        new Promise((resolve) => setTimeout(resolve, CIRCUIT_BATCH_MS)).then(async () => {
          await Promise.all(
            opened.map(async (name) => {
              const outcomes = batches.get(name)?.outcomes ?? [];
              batches.delete(name);
              remember(name, await this.#stub(name).record(outcomes, this.#settings));
            }),
          );
        }),
      );
    }
    for (const name of this.#stale) {
      // A batch in flight answers with a fresh snapshot anyway.
      if (batches.has(name) || refreshing.has(name)) continue;
      refreshing.add(name);
      calls.push(
        this.#stub(name)
          .snapshot(this.#settings)
          .then((snapshot) => remember(name, snapshot))
          .finally(() => refreshing.delete(name)),
      );
    }
    this.#opened.clear();
    this.#stale.clear();
    const results = await Promise.allSettled(calls);
    for (const result of results) {
      if (result.status === "rejected") console.error(JSON.stringify({ level: "warn", message: "circuit breaker update failed", error: String(result.reason) }));
    }
  }

  #stub(name: string) {
    return this.#env.CIRCUIT_BREAKER.getByName(name);
  }
}

function remember(name: string, snapshot: CircuitSnapshot): void {
  cache.set(name, { snapshot, fetchedAt: Date.now() });
}
