import { env } from "cloudflare:workers";
import type { GatewayConfigInput } from "../../src/config/schema";
import { callGateway, newWorkspace, simulatorProviders, type TestWorkspace } from "../helpers";

/**
 * Routes of a cache test workspace: `cached` (cache on, `cache` as given), `stored` (cache on, no coalescing: the
 * store alone decides), `coalesced` (coalescing only), `plain` (neither).
 */
export async function cacheWorkspace(extra: Partial<GatewayConfigInput> = {}, cache: Record<string, unknown> = { mode: "exact", ttl: 600 }): Promise<TestWorkspace> {
  const target = { provider: "openai", model: "gpt-4o-mini" };
  return newWorkspace((scenario) => ({
    providers: simulatorProviders(scenario),
    routes: {
      cached: { strategy: "single", target, cache },
      stored: { strategy: "single", target, cache, coalesce: false },
      coalesced: { strategy: "single", target, coalesce: { maxWaitMs: 10_000 } },
      plain: { strategy: "single", target },
    },
    ...extra,
  }));
}

export const chatBody = (model: string, content: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user", content }], ...extra });

export const chat = (ws: TestWorkspace, body: unknown, headers: Record<string, string> = {}) => callGateway(ws.key, "/v1/chat/completions", body, headers);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The KV keys of a workspace's cache entries (`resp:<workspace>:<hash>`). */
export async function storedKeys(workspaceId: string): Promise<string[]> {
  const listed = await env.CACHE_KV.list({ prefix: `resp:${workspaceId}:` });
  return listed.keys.map((key) => key.name);
}

/**
 * Waits until the workspace holds `count` entries: cache writes happen in `waitUntil` after the response, so a
 * test polls for them (bounded) rather than sleeping a guessed time.
 */
export async function waitForStored(workspaceId: string, count = 1): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const keys = await storedKeys(workspaceId);
    if (keys.length >= count) return keys;
    await sleep(25);
  }
  throw new Error(`no cache entry was stored for ${workspaceId}`);
}

/** The request hash of a stored KV key. */
export const hashOf = (kvKey: string) => kvKey.split(":").at(-1)!;
