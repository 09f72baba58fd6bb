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

type Entry = { snapshot: CircuitSnapshot; fetchedAt: number };
const cache = new TtlCache<Entry>({ ttlMs: CIRCUIT_CACHE_TTL_MS, maxEntries: 2_000 });

/** One Durable Object per workspace, provider and model: providers (base URL, key) are per workspace. */
export const circuitName = (workspaceId: string, target: Target): string => `${workspaceId}/${targetKey(target)}`;

export class CircuitView {
  readonly #env: Env;
  readonly #workspaceId: string;
  readonly #settings: CircuitBreakerSettings;
  readonly #stale = new Map<string, Target>();
  readonly #outcomes = new Map<string, { target: Target; outcomes: CircuitOutcome[] }>();

  constructor(env: Env, workspaceId: string, settings: CircuitBreakerSettings) {
    this.#env = env;
    this.#workspaceId = workspaceId;
    this.#settings = settings;
  }

  /** Health for planning, from isolate memory only. */
  health(target: Target, now = Date.now()): TargetHealth {
    const name = circuitName(this.#workspaceId, target);
    const entry = cache.get(name, now);
    if (!entry || now - entry.fetchedAt >= CIRCUIT_REFRESH_AFTER_MS) this.#stale.set(name, target);
    if (!entry) return HEALTHY;
    const open = this.#settings.enabled && circuitStateAt(entry.snapshot, now, this.#settings) === "open";
    return { open, lastFailureAt: entry.snapshot.lastFailureAt, latencyMs: entry.snapshot.latencyMs };
  }

  /** Notes an attempt's outcome; sent to the target's Durable Object when the request settles. */
  report(target: Target, outcome: CircuitOutcome): void {
    const name = circuitName(this.#workspaceId, target);
    const pending = this.#outcomes.get(name) ?? { target, outcomes: [] };
    pending.outcomes.push(outcome);
    this.#outcomes.set(name, pending);
  }

  /** The settle step: report outcomes, refresh what planning found stale, and keep the answers in the cache. */
  async settle(): Promise<void> {
    const calls: Promise<void>[] = [];
    for (const [name, { outcomes }] of this.#outcomes) {
      this.#stale.delete(name);
      calls.push(this.#stub(name).record(outcomes, this.#settings).then((snapshot) => remember(name, snapshot)));
    }
    for (const name of this.#stale.keys()) calls.push(this.#stub(name).snapshot(this.#settings).then((snapshot) => remember(name, snapshot)));
    this.#outcomes.clear();
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

/** Drops this isolate's copy of a circuit (tests and admin resets). */
export function forgetCircuit(workspaceId: string, target: Target): void {
  cache.delete(circuitName(workspaceId, target));
}
