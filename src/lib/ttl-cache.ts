/**
 * A small, bounded, short-lived isolate-memory cache for config-like data (keys, configs, circuit state).
 * Never for responses. Entries expire after `ttlMs`; past `maxEntries` the oldest entry is evicted.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: { ttlMs: number; maxEntries: number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
  }

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs = this.#ttlMs, now = Date.now()): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: now + ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /**
   * Reads through: returns the cached value or loads, caches and returns it. Each request that misses loads for
   * itself: workerd ties I/O to the request that started it, so a load shared with concurrent requests fails them
   * ("Cannot perform I/O on behalf of a different request") or leaves them hanging when the first request ends.
   * Under load that was one 500 in a few hundred requests each time the entry expired (docs/performance.md).
   */
  async getOrLoad(key: string, load: () => Promise<V>, ttlMs = this.#ttlMs): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    this.set(key, value, ttlMs);
    return value;
  }
}
