import { describe, expect, it } from "vitest";
import { cacheKeyFor, canonicalJson } from "../../src/cache/key";
import { cachePolicyFor, cacheSettingsOf } from "../../src/cache/options";
import { GatewayConfigSchema } from "../../src/config/schema";
import { GatewayError } from "../../src/lib/errors";
import type { ChatRequest } from "../../src/schema/internal";

const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "smart",
  messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
  stream: false,
  includeUsage: false,
  ...extra,
});
const target = { provider: "openai", model: "gpt-4o-mini" };
const key = (req: ChatRequest, options = { includeUser: false }, workspace = "ws-1", t = target) => cacheKeyFor(workspace, t, req, options);

describe("cache keys", () => {
  it("canonical JSON sorts keys and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined], c: undefined, e: "x" } })).toBe('{"a":{"d":[1,null],"e":"x"},"b":1}');
  });

  it("leave out stream, include_usage, the model alias, metadata and (by default) user", async () => {
    const base = await key(request());
    expect(await key(request({ stream: true, includeUsage: true }))).toBe(base);
    expect(await key(request({ model: "openai/gpt-4o-mini" }))).toBe(base);
    expect(await key(request({ metadata: { trace: "1" }, user: "alice" }))).toBe(base);
    expect(await key(request({ user: "alice" }), { includeUser: true })).not.toBe(base);
    expect(await key(request({ user: "alice" }), { includeUser: true })).not.toBe(await key(request({ user: "bob" }), { includeUser: true }));
  });

  it("cover the workspace, the planned target and everything that shapes the answer", async () => {
    const base = await key(request());
    expect(await key(request(), undefined, "ws-2")).not.toBe(base);
    expect(await key(request(), undefined, "ws-1", { provider: "anthropic", model: "gpt-4o-mini" })).not.toBe(base);
    expect(await key(request(), undefined, "ws-1", { provider: "openai", model: "gpt-4o" })).not.toBe(base);
    for (const change of [
      { temperature: 0.5 },
      { topP: 0.9 },
      { maxTokens: 10 },
      { stop: ["\n"] },
      { seed: 7 },
      { responseFormat: { type: "json_object" } },
      { tools: [{ name: "f", parameters: { type: "object" } }] },
      { toolChoice: "required" },
      { messages: [{ role: "user", content: [{ type: "text", text: "Hi!" }] }] },
    ] satisfies Partial<ChatRequest>[]) {
      expect(await key(request(change))).not.toBe(base);
    }
  });
});

describe("cache policy", () => {
  const headers = (init: Record<string, string> = {}) => new Headers(init);

  it("is off by default: no cache, no coalescing, nothing to pay", () => {
    expect(cachePolicyFor({}, headers())).toBeUndefined();
    expect(cachePolicyFor({ cache: { mode: "off", ttl: 60, includeUser: false, storeToolCalls: false } }, headers())).toBeUndefined();
  });

  it("a cache-enabled route coalesces by default; coalescing can be on alone or turned off", () => {
    const cache = { mode: "exact" as const, ttl: 600, includeUser: false, storeToolCalls: false };
    expect(cachePolicyFor({ cache }, headers())).toMatchObject({ cache: { ttlSeconds: 600, read: true, write: true, status: "MISS" }, coalesce: { maxWaitMs: 30_000 } });
    expect(cachePolicyFor({ cache, coalesce: false }, headers())?.coalesce).toBeUndefined();
    expect(cachePolicyFor({ coalesce: true }, headers())).toEqual({ cache: undefined, coalesce: { maxWaitMs: 30_000 } });
    expect(cachePolicyFor({ coalesce: { enabled: true, maxWaitMs: 500 } }, headers())?.coalesce).toEqual({ maxWaitMs: 500 });
  });

  it("request headers: a TTL turns the cache on, no-store and refresh skip the lookup and coalescing", () => {
    expect(cachePolicyFor({}, headers({ "x-switchyard-cache-ttl": "30" }))?.cache).toMatchObject({ ttlSeconds: 30, read: true, write: true });
    const cache = { mode: "exact" as const, ttl: 600, includeUser: false, storeToolCalls: false };
    expect(cachePolicyFor({ cache }, headers({ "x-switchyard-cache": "no-store" }))).toMatchObject({ cache: { read: false, write: false, status: "BYPASS" }, coalesce: undefined });
    expect(cachePolicyFor({ cache }, headers({ "x-switchyard-cache": "Refresh" }))).toMatchObject({ cache: { read: false, write: true, status: "REFRESH" }, coalesce: undefined });
    expect(() => cachePolicyFor({ cache }, headers({ "x-switchyard-cache": "maybe" }))).toThrow(GatewayError);
    expect(() => cachePolicyFor({}, headers({ "x-switchyard-cache-ttl": "1.5" }))).toThrow(GatewayError);
  });

  it("config: route settings win over the workspace defaults, which serve direct requests", () => {
    const config = GatewayConfigSchema.parse({
      providers: { openai: { type: "openai", apiKey: { env: "OPENAI_API_KEY" } } },
      routes: {
        own: { strategy: "single", target: { provider: "openai", model: "m" }, cache: { mode: "exact", ttl: 60 }, coalesce: false },
        inherits: { strategy: "single", target: { provider: "openai", model: "m" } },
      },
      cache: { ttl: 120 },
    });
    expect(cacheSettingsOf(config, "own")).toMatchObject({ cache: { ttl: 60 }, coalesce: false });
    expect(cacheSettingsOf(config, "inherits")).toMatchObject({ cache: { mode: "exact", ttl: 120 } });
    expect(cacheSettingsOf(config, undefined)).toMatchObject({ cache: { ttl: 120 } });
    expect(GatewayConfigSchema.safeParse({ providers: {}, cache: { ttl: 0 } }).success).toBe(false);
    expect(GatewayConfigSchema.safeParse({ providers: {}, cache: { mode: "fuzzy" } }).success).toBe(false);
  });
});
