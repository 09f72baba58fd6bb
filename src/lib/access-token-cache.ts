/**
 * OAuth access tokens kept in isolate memory until shortly before they expire (Google's service-account tokens,
 * Microsoft Entra ID's client-credentials tokens). Concurrent requests that find no token share one exchange; a
 * failed exchange is not cached.
 */

/** A token is replaced this long before it expires, so none expires while a request is in flight. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** Tokens kept per isolate: one per credential and token endpoint, so a handful in practice. */
const MAX_CACHED_TOKENS = 64;

export type CachedToken = { token: string; refreshAt: number };

/** Access tokens by credential, bounded; an exchange in progress is shared by every caller that needs it. */
export class AccessTokenCache {
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<CachedToken>>();

  async get(key: string, exchange: () => Promise<CachedToken>, now: number): Promise<string> {
    const cached = this.#tokens.get(key);
    if (cached && cached.refreshAt > now) return cached.token;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = exchange()
        .then((fresh) => {
          this.#tokens.delete(key);
          if (this.#tokens.size >= MAX_CACHED_TOKENS) {
            const oldest = this.#tokens.keys().next();
            if (!oldest.done) this.#tokens.delete(oldest.value);
          }
          this.#tokens.set(key, fresh);
          return fresh;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return (await pending).token;
  }
}

/** When a token obtained at `obtainedAt` is replaced: shortly before expiry; short-lived ones at half their life. */
export function refreshAt(obtainedAt: number, expiresInSeconds: number): number {
  const lifetimeMs = expiresInSeconds * 1000;
  return obtainedAt + Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs / 2);
}

