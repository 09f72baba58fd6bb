import { describe, expect, it } from "vitest";
import { AccessTokenCache, refreshAt, type CachedToken } from "./access-token-cache";

/** A token exchange stand-in that counts its calls and can be held open, to observe sharing. */
function exchanges() {
  let count = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    get count() {
      return count;
    },
    release: () => release(),
    exchange: (refresh: number, held = false) => async (): Promise<CachedToken> => {
      count++;
      if (held) await gate;
      return { token: `token-${count}`, refreshAt: refresh };
    },
  };
}

describe("AccessTokenCache", () => {
  it("serves a cached token until its refresh time, then exchanges again", async () => {
    const cache = new AccessTokenCache();
    const calls = exchanges();
    expect(await cache.get("sa", calls.exchange(1_000), 0)).toBe("token-1");
    expect(await cache.get("sa", calls.exchange(1_000), 999)).toBe("token-1");
    expect(await cache.get("sa", calls.exchange(5_000), 1_000)).toBe("token-2");
    expect(calls.count).toBe(2);
  });

  it("shares one exchange among concurrent callers", async () => {
    const cache = new AccessTokenCache();
    const calls = exchanges();
    const pending = Array.from({ length: 5 }, () => cache.get("sa", calls.exchange(1_000, true), 0));
    calls.release();
    expect(await Promise.all(pending)).toEqual(Array(5).fill("token-1"));
    expect(calls.count).toBe(1);
  });

  it("does not cache a failed exchange", async () => {
    const cache = new AccessTokenCache();
    await expect(cache.get("sa", () => Promise.reject(new Error("refused")), 0)).rejects.toThrow("refused");
    const calls = exchanges();
    expect(await cache.get("sa", calls.exchange(1_000), 0)).toBe("token-1");
  });
});

describe("refreshAt", () => {
  it("replaces an hour-long token five minutes before it expires, a short one at half its life", () => {
    expect(refreshAt(0, 3600)).toBe(55 * 60_000);
    expect(refreshAt(1_000, 120)).toBe(61_000);
  });
});
