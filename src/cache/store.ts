import { readCacheEntry, type CacheEntry } from "./entry";

/** KV rejects values above 25 MiB; a bigger entry is kept in the Cache API tier only. */
export const KV_MAX_VALUE_BYTES = 25 * 1024 * 1024;
/** KV rejects an `expirationTtl` under 60 s; shorter TTLs are enforced by the entry's own `expiresAt`. */
export const KV_MIN_EXPIRATION_TTL_SECONDS = 60;
/** A made-up origin for Cache API keys: the Cache API needs URLs, and this one can never collide with a real page. */
const CACHE_API_ORIGIN = "https://response-cache.switchyard.internal";

export type CacheTier = "cache-api" | "kv";

/** The KV key of an entry: per workspace, so one workspace's entries can be listed (and purged) by prefix. */
export const kvKeyOf = (workspaceId: string, hash: string) => `resp:${workspaceId}:${hash}`;
export const cacheApiKeyOf = (workspaceId: string, hash: string) => `${CACHE_API_ORIGIN}/v1/${encodeURIComponent(workspaceId)}/${hash}`;

const encoder = new TextEncoder();

function warn(event: string, tier: CacheTier, error: unknown): void {
  // Never the entry itself: it holds a completion.
  console.warn(JSON.stringify({ level: "warn", event, tier, error: error instanceof Error ? error.message : String(error) }));
}

/** The Cache API is absent in some runtimes (and a no-op on workers.dev); the KV tier still works then. */
function defaultCache(): Cache | null {
  return typeof caches === "undefined" ? null : caches.default;
}

function cacheApiResponse(text: string, entry: CacheEntry, now: number): Response {
  const maxAge = Math.max(1, Math.ceil((entry.expiresAt - now) / 1_000));
  return new Response(text, { headers: { "content-type": "application/json", "cache-control": `max-age=${maxAge}` } });
}

export type CacheLookup = {
  entry: CacheEntry;
  tier: CacheTier;
  /** Copies a KV hit into the (per-location) Cache API; for `record.after`, never on the client's path. */
  writeBack?: () => Promise<void>;
};

/**
 * The two-tier response store: the Cache API (per location, fast) in front of KV (global). Every failure of
 * either tier is logged and treated as a miss or a skipped write: the cache never fails a request.
 */
export class ResponseStore {
  readonly #kv: KVNamespace;
  readonly #cache: Cache | null;

  /** `cache`: the Cache API tier (`null`: KV only). */
  constructor(kv: KVNamespace, cache: Cache | null = defaultCache()) {
    this.#kv = kv;
    this.#cache = cache;
  }

  async lookup(workspaceId: string, hash: string, now = Date.now()): Promise<CacheLookup | undefined> {
    const fromCacheApi = await this.#readCacheApi(workspaceId, hash, now);
    if (fromCacheApi) return { entry: fromCacheApi, tier: "cache-api" };
    let text: string | null;
    try {
      text = await this.#kv.get(kvKeyOf(workspaceId, hash));
    } catch (error) {
      warn("cache_read_failed", "kv", error);
      return undefined;
    }
    if (text === null) return undefined;
    const entry = readCacheEntry(text, now);
    if (!entry) return undefined;
    return { entry, tier: "kv", writeBack: () => this.#writeCacheApi(workspaceId, hash, text, entry) };
  }

  /** Writes both tiers; each tier's failure is independent of the other's. */
  async store(workspaceId: string, hash: string, entry: CacheEntry, now = Date.now()): Promise<void> {
    const text = JSON.stringify(entry);
    await Promise.all([this.#writeCacheApi(workspaceId, hash, text, entry, now), this.#writeKv(workspaceId, hash, text, entry, now)]);
  }

  async #readCacheApi(workspaceId: string, hash: string, now: number): Promise<CacheEntry | undefined> {
    if (!this.#cache) return undefined;
    try {
      const response = await this.#cache.match(cacheApiKeyOf(workspaceId, hash));
      return response ? readCacheEntry(await response.text(), now) : undefined;
    } catch (error) {
      warn("cache_read_failed", "cache-api", error);
      return undefined;
    }
  }

  async #writeCacheApi(workspaceId: string, hash: string, text: string, entry: CacheEntry, now = Date.now()): Promise<void> {
    if (!this.#cache || entry.expiresAt <= now) return;
    try {
      await this.#cache.put(cacheApiKeyOf(workspaceId, hash), cacheApiResponse(text, entry, now));
    } catch (error) {
      warn("cache_write_failed", "cache-api", error);
    }
  }

  async #writeKv(workspaceId: string, hash: string, text: string, entry: CacheEntry, now: number): Promise<void> {
    const remainingSeconds = Math.ceil((entry.expiresAt - now) / 1_000);
    if (remainingSeconds <= 0) return;
    // Measured only when it could matter: a UTF-8 string is at most 3 bytes per UTF-16 unit.
    if (text.length * 3 > KV_MAX_VALUE_BYTES && encoder.encode(text).byteLength > KV_MAX_VALUE_BYTES) {
      warn("cache_write_skipped", "kv", `entry of ${text.length} characters exceeds KV's value limit`);
      return;
    }
    try {
      await this.#kv.put(kvKeyOf(workspaceId, hash), text, { expirationTtl: Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, remainingSeconds) });
    } catch (error) {
      warn("cache_write_failed", "kv", error);
    }
  }
}
