import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newCacheEntry, readCacheEntry } from "../../src/cache/entry";
import { ResultCapture, eventsOfResult } from "../../src/cache/replay";
import { KV_MAX_VALUE_BYTES, ResponseStore, cacheApiKeyOf, kvKeyOf } from "../../src/cache/store";
import type { ChatResult } from "../../src/schema/internal";

const result = (text = "Hello there", extra: Partial<ChatResult> = {}): ChatResult => ({
  id: "chatcmpl-1",
  model: "gpt-4o-mini",
  created: 1_700_000_000,
  text,
  toolCalls: [],
  finishReason: "stop",
  usage: { promptTokens: 5, completionTokens: 3, cachedTokens: 1, cacheWriteTokens: 0, reasoningTokens: 0 },
  ...extra,
});
const target = { provider: "openai", model: "gpt-4o-mini" };
const uniqueWorkspace = () => `store-${crypto.randomUUID()}`;

describe("ResponseStore", () => {
  it("writes both tiers and reads the Cache API first", async () => {
    const store = new ResponseStore(env.CACHE_KV);
    const ws = uniqueWorkspace();
    await store.store(ws, "h1", newCacheEntry(result(), target, 600));
    const found = await store.lookup(ws, "h1");
    expect(found?.tier).toBe("cache-api");
    expect(found?.entry.result).toEqual(result());
    expect(found?.writeBack).toBeUndefined();
  });

  it("keeps TTLs under KV's 60 s minimum in KV for 60 s, and enforces them with the entry's expiry", async () => {
    const store = new ResponseStore(env.CACHE_KV, null);
    const ws = uniqueWorkspace();
    const now = Date.now();
    await store.store(ws, "short", newCacheEntry(result(), target, 5, now), now);
    const listed = await env.CACHE_KV.list({ prefix: kvKeyOf(ws, "") });
    expect(listed.keys[0]?.expiration).toBeGreaterThanOrEqual(Math.floor(now / 1000) + 59);
    expect((await store.lookup(ws, "short", now + 4_000))?.tier).toBe("kv");
    expect(await store.lookup(ws, "short", now + 5_000)).toBeUndefined();
  });

  it("skips KV for an entry over KV's value limit but still keeps it in the Cache API, without failing", async () => {
    const store = new ResponseStore(env.CACHE_KV);
    const ws = uniqueWorkspace();
    const huge = "x".repeat(KV_MAX_VALUE_BYTES + 1);
    await expect(store.store(ws, "big", newCacheEntry(result(huge), target, 600))).resolves.toBeUndefined();
    expect(await env.CACHE_KV.get(kvKeyOf(ws, "big"))).toBeNull();
    expect(await caches.default.match(cacheApiKeyOf(ws, "big"))).toBeDefined();
  });

  it("reads corrupt, foreign or old-version values as misses", async () => {
    const now = Date.now();
    expect(readCacheEntry("not json", now)).toBeUndefined();
    expect(readCacheEntry(JSON.stringify({ v: 1, result: "nope" }), now)).toBeUndefined();
    expect(readCacheEntry(JSON.stringify({ ...newCacheEntry(result(), target, 60, now), v: 0 }), now)).toBeUndefined();
    expect(readCacheEntry(JSON.stringify(newCacheEntry(result(), target, 60, now)), now + 60_000)).toBeUndefined();
    expect(readCacheEntry(JSON.stringify(newCacheEntry(result(), target, 60, now)), now)?.result).toEqual(result());
  });
});

describe("replay and capture", () => {
  it("a result replayed as events and captured back is the same result", () => {
    const withTools = result("", { finishReason: "tool_calls", toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Paris"}' }, { id: "call_2", name: "time", arguments: "" }] });
    for (const original of [result("a".repeat(10_000)), withTools, result("stopped", { stopSequence: "END" })]) {
      const capture = new ResultCapture({ limitChars: 1_000_000 });
      for (const event of eventsOfResult(original)) capture.add(event);
      expect(capture.result).toEqual({ ...original, created: capture.result!.created });
    }
  });

  it("captures nothing from a stream without its finish, or past the size limit", () => {
    const cut = new ResultCapture({ limitChars: 1_000 });
    for (const event of eventsOfResult(result()).filter((e) => e.type !== "finish")) cut.add(event);
    expect(cut.result).toBeUndefined();
    const big = new ResultCapture({ limitChars: 10 });
    for (const event of eventsOfResult(result("far more than ten characters"))) big.add(event);
    expect(big.result).toBeUndefined();
  });
});
