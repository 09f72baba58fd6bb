import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newCacheEntry } from "../../src/cache/entry";
import { cacheApiKeyOf } from "../../src/cache/store";
import { anthropicClient, newWorkspace, openAIClient, readSSE, scriptFaults, simulatorProviders, upstreamRequests } from "../helpers";
import { cacheWorkspace, chat, chatBody, hashOf, sleep, storedKeys, waitForStored } from "./support";

const contentOf = (frames: { data: string }[]) =>
  frames
    .filter((f) => f.data !== "[DONE]")
    .map((f) => JSON.parse(f.data) as { choices: { delta?: { content?: string } }[] })
    .map((chunk) => chunk.choices[0]?.delta?.content ?? "")
    .join("");

describe("exact-match response cache", () => {
  it("answers a repeated request from the cache: same body, one upstream call", async () => {
    const ws = await cacheWorkspace();
    const first = await chat(ws, chatBody("cached", "What is 2+2?"));
    expect(first.status).toBe(200);
    expect(first.headers.get("x-switchyard-cache")).toBe("MISS");
    const firstBody = await first.json();
    await waitForStored(ws.id);

    const second = await chat(ws, chatBody("cached", "What is 2+2?"));
    expect(second.status).toBe(200);
    expect(second.headers.get("x-switchyard-cache")).toBe("HIT");
    expect(second.headers.get("x-switchyard-provider")).toBe("openai");
    expect(second.headers.get("x-switchyard-attempts")).toBe("0");
    expect(await second.json()).toEqual(firstBody);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("replays a hit for a streamed request as valid SSE with the usage chunk (the OpenAI SDK reads it)", async () => {
    const ws = await cacheWorkspace();
    const plain = await (await chat(ws, chatBody("cached", "Stream me"))).json<{ choices: { message: { content: string } }[]; usage: { total_tokens: number } }>();
    await waitForStored(ws.id);

    const client = openAIClient(ws.key);
    const stream = await client.chat.completions.create({ model: "cached", messages: [{ role: "user", content: "Stream me" }], stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: { total_tokens: number } | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(finish).toBe("stop");
    expect(usage?.total_tokens).toBe(plain.usage.total_tokens);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);

    const raw = await chat(ws, chatBody("cached", "Stream me", { stream: true, stream_options: { include_usage: true } }));
    expect(raw.headers.get("x-switchyard-cache")).toBe("HIT");
    expect(raw.headers.get("content-type")).toContain("text/event-stream");
    const frames = await readSSE(raw);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    expect(JSON.parse(frames.at(-2)!.data)).toMatchObject({ choices: [], usage: { total_tokens: plain.usage.total_tokens } });
  });

  it("stores a streamed answer and serves it to a non-streamed request", async () => {
    const ws = await cacheWorkspace();
    const streamed = await chat(ws, chatBody("cached", "Both ways", { stream: true }));
    expect(streamed.headers.get("x-switchyard-cache")).toBe("MISS");
    const text = contentOf(await readSSE(streamed));
    await waitForStored(ws.id);

    const plain = await chat(ws, chatBody("cached", "Both ways"));
    expect(plain.headers.get("x-switchyard-cache")).toBe("HIT");
    const body = await plain.json<{ choices: { message: { content: string }; finish_reason: string }[]; usage: { prompt_tokens: number; completion_tokens: number } }>();
    expect(body.choices[0]!.message.content).toBe(text);
    expect(body.choices[0]!.finish_reason).toBe("stop");
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("serves one entry to both dialects: an Anthropic streamed hit replays message events with usage", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { claude: { strategy: "single", target: { provider: "anthropic", model: "claude-sonnet-4-5" }, cache: { mode: "exact", ttl: 600 } } },
    }));
    const client = anthropicClient(ws.key);
    const first = await client.messages.create({ model: "claude", max_tokens: 100, messages: [{ role: "user", content: "Hello Claude" }] });
    await waitForStored(ws.id);
    const stream = client.messages.stream({ model: "claude", max_tokens: 100, messages: [{ role: "user", content: "Hello Claude" }] });
    const final = await stream.finalMessage();
    expect(final.content).toEqual(first.content);
    expect(final.usage.output_tokens).toBe(first.usage.output_tokens);
    expect(final.usage.input_tokens).toBe(first.usage.input_tokens);
    expect(final.stop_reason).toBe("end_turn");
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("never shares entries between workspaces", async () => {
    const a = await cacheWorkspace();
    const b = await cacheWorkspace();
    await (await chat(a, chatBody("cached", "Same question"))).json();
    await waitForStored(a.id);
    const fromB = await chat(b, chatBody("cached", "Same question"));
    expect(fromB.headers.get("x-switchyard-cache")).toBe("MISS");
    await fromB.json();
    expect(await upstreamRequests(b.scenario)).toHaveLength(1);
    const again = await chat(a, chatBody("cached", "Same question"));
    expect(again.headers.get("x-switchyard-cache")).toBe("HIT");
  });

  it("keys on what shapes the answer: other messages or parameters miss, user and stream do not matter", async () => {
    const ws = await cacheWorkspace();
    await (await chat(ws, chatBody("cached", "Key me", { user: "alice" }))).json();
    await waitForStored(ws.id);
    expect((await chat(ws, chatBody("cached", "Key me", { user: "bob" }))).headers.get("x-switchyard-cache")).toBe("HIT");
    expect((await chat(ws, chatBody("cached", "Key me", { temperature: 0.2 }))).headers.get("x-switchyard-cache")).toBe("MISS");
    expect((await chat(ws, chatBody("cached", "Key me too"))).headers.get("x-switchyard-cache")).toBe("MISS");
  });

  it("keeps users apart when the route includes `user` in the key", async () => {
    const ws = await cacheWorkspace({}, { mode: "exact", ttl: 600, includeUser: true });
    await (await chat(ws, chatBody("cached", "Per user", { user: "alice" }))).json();
    await waitForStored(ws.id);
    expect((await chat(ws, chatBody("cached", "Per user", { user: "bob" }))).headers.get("x-switchyard-cache")).toBe("MISS");
    expect((await chat(ws, chatBody("cached", "Per user", { user: "alice" }))).headers.get("x-switchyard-cache")).toBe("HIT");
  });

  it("treats an entry past its own expiry as a miss (TTLs under KV's 60 s minimum are enforced this way)", async () => {
    const ws = await cacheWorkspace({}, { mode: "exact", ttl: 5 });
    const first = await (await chat(ws, chatBody("stored", "Expire me"))).json<{ choices: { message: { content: string } }[] }>();
    const [kvKey] = await waitForStored(ws.id);
    const hash = hashOf(kvKey!);
    const stored = await env.CACHE_KV.getWithMetadata(kvKey!);
    expect(stored.value).not.toBeNull();

    // The same entry, its expiry passed: in both tiers, as they would hold it a moment after the TTL.
    const expired = { ...JSON.parse(stored.value!), expiresAt: Date.now() - 1 };
    await env.CACHE_KV.put(kvKey!, JSON.stringify(expired), { expirationTtl: 60 });
    await caches.default.put(cacheApiKeyOf(ws.id, hash), new Response(JSON.stringify(expired), { headers: { "cache-control": "max-age=60" } }));

    const again = await chat(ws, chatBody("stored", "Expire me"));
    expect(again.headers.get("x-switchyard-cache")).toBe("MISS");
    expect((await again.json<typeof first>()).choices[0]!.message.content).toBe(first.choices[0]!.message.content);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(2);
  });

  it("expires for real after a short TTL", async () => {
    const ws = await newWorkspace((scenario) => ({ providers: simulatorProviders(scenario), routes: {} }));
    const headers = { "x-switchyard-cache-ttl": "1" };
    await (await chat(ws, chatBody("openai/gpt-4o-mini", "Short-lived"), headers)).json();
    await waitForStored(ws.id);
    expect((await chat(ws, chatBody("openai/gpt-4o-mini", "Short-lived"), headers)).headers.get("x-switchyard-cache")).toBe("HIT");
    await sleep(1_100);
    expect((await chat(ws, chatBody("openai/gpt-4o-mini", "Short-lived"), headers)).headers.get("x-switchyard-cache")).toBe("MISS");
  });

  it("no-store bypasses the cache both ways; refresh calls upstream and replaces the entry", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [{ text: "first answer" }, { text: "bypassed answer" }, { text: "refreshed answer" }]);
    const textOf = async (res: Response) => (await res.json<{ choices: { message: { content: string } }[] }>()).choices[0]!.message.content;

    expect(await textOf(await chat(ws, chatBody("cached", "Directive")))).toBe("first answer");
    await waitForStored(ws.id);

    const bypass = await chat(ws, chatBody("cached", "Directive"), { "x-switchyard-cache": "no-store" });
    expect(bypass.headers.get("x-switchyard-cache")).toBe("BYPASS");
    expect(await textOf(bypass)).toBe("bypassed answer");
    await sleep(200);
    const hit = await chat(ws, chatBody("cached", "Directive"));
    expect(hit.headers.get("x-switchyard-cache")).toBe("HIT");
    expect(await textOf(hit)).toBe("first answer");

    const refresh = await chat(ws, chatBody("cached", "Directive"), { "x-switchyard-cache": "refresh" });
    expect(refresh.headers.get("x-switchyard-cache")).toBe("REFRESH");
    expect(await textOf(refresh)).toBe("refreshed answer");
    for (let i = 0; i < 100; i++) {
      const res = await chat(ws, chatBody("cached", "Directive"));
      const text = await textOf(res);
      if (text === "refreshed answer") {
        expect(res.headers.get("x-switchyard-cache")).toBe("HIT");
        break;
      }
      await sleep(25);
    }
    expect(await upstreamRequests(ws.scenario)).toHaveLength(3);
  });

  it("turns the cache on for one request with x-switchyard-cache-ttl, and for direct provider/model requests with the workspace default", async () => {
    const ws = await cacheWorkspace({ cache: { mode: "exact", ttl: 300 } });
    await (await chat(ws, chatBody("openai/gpt-4o-mini", "Direct"))).json();
    await waitForStored(ws.id);
    expect((await chat(ws, chatBody("openai/gpt-4o-mini", "Direct"))).headers.get("x-switchyard-cache")).toBe("HIT");

    const other = await cacheWorkspace();
    const off = await chat(other, chatBody("plain", "Headers only"));
    expect(off.headers.get("x-switchyard-cache")).toBeNull();
    await off.json();
    await (await chat(other, chatBody("plain", "Headers only"), { "x-switchyard-cache-ttl": "120" })).json();
    await waitForStored(other.id);
    expect((await chat(other, chatBody("plain", "Headers only"), { "x-switchyard-cache-ttl": "120" })).headers.get("x-switchyard-cache")).toBe("HIT");
  });

  it("rejects malformed cache headers with a 400", async () => {
    const ws = await cacheWorkspace();
    const bad = await chat(ws, chatBody("cached", "x"), { "x-switchyard-cache": "sometimes" });
    expect(bad.status).toBe(400);
    expect((await bad.json<{ error: { param: string } }>()).error.param).toBe("x-switchyard-cache");
    const badTtl = await chat(ws, chatBody("cached", "x"), { "x-switchyard-cache-ttl": "-3" });
    expect(badTtl.status).toBe(400);
  });

  it("stores only complete, successful answers: not errors, not cut streams, not tool calls (unless configured)", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [{ status: 400, message: "bad" }, { dropAfterEvents: 2, drop: "truncate" }]);
    const failed = await chat(ws, chatBody("cached", "Fragile"));
    expect(failed.status).toBe(400);
    expect(failed.headers.get("x-switchyard-cache")).toBe("MISS");
    await failed.json();
    const cut = await chat(ws, chatBody("cached", "Fragile", { stream: true }));
    const frames = await readSSE(cut).catch(() => []);
    expect(frames.some((f) => f.data === "[DONE]")).toBe(false);
    const tools = [{ type: "function", function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
    const toolCall = await chat(ws, chatBody("cached", "Weather?", { tools }));
    expect((await toolCall.json<{ choices: { finish_reason: string }[] }>()).choices[0]!.finish_reason).toBe("tool_calls");
    await sleep(300);
    expect(await storedKeys(ws.id)).toEqual([]);

    const withTools = await cacheWorkspace({}, { mode: "exact", ttl: 600, storeToolCalls: true });
    await (await chat(withTools, chatBody("cached", "Weather?", { tools }))).json();
    await waitForStored(withTools.id);
    const hit = await chat(withTools, chatBody("cached", "Weather?", { tools }));
    expect(hit.headers.get("x-switchyard-cache")).toBe("HIT");
    expect((await hit.json<{ choices: { message: { tool_calls: unknown[] } }[] }>()).choices[0]!.message.tool_calls).toHaveLength(1);
  });

  it("serves a KV hit when the location's Cache API lacks the entry, and writes it back there", async () => {
    const ws = await cacheWorkspace();
    const first = await (await chat(ws, chatBody("cached", "Two tiers"))).json();
    const [kvKey] = await waitForStored(ws.id);
    const cacheKey = cacheApiKeyOf(ws.id, hashOf(kvKey!));
    expect(await caches.default.match(cacheKey)).toBeDefined();
    await caches.default.delete(cacheKey);

    const fromKv = await chat(ws, chatBody("cached", "Two tiers"));
    expect(fromKv.headers.get("x-switchyard-cache")).toBe("HIT");
    expect(await fromKv.json()).toEqual(first);
    let written: Response | undefined;
    for (let i = 0; i < 100 && !written; i++) {
      written = await caches.default.match(cacheKey);
      if (!written) await sleep(25);
    }
    expect(written).toBeDefined();
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("still serves when a stored value is corrupt (a storage failure is only a miss)", async () => {
    const ws = await cacheWorkspace();
    const first = await (await chat(ws, chatBody("stored", "Corrupt"))).json<{ choices: unknown[] }>();
    const [kvKey] = await waitForStored(ws.id);
    await env.CACHE_KV.put(kvKey!, "{ not json", { expirationTtl: 600 });
    await caches.default.put(cacheApiKeyOf(ws.id, hashOf(kvKey!)), new Response(JSON.stringify({ v: 1, result: "garbage" }), { headers: { "cache-control": "max-age=600" } }));

    const res = await chat(ws, chatBody("stored", "Corrupt"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-cache")).toBe("MISS");
    expect((await res.json<typeof first>()).choices).toEqual(first.choices);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(2);
  });

  it("renders a hit from the stored internal form: its id, created, text and usage", async () => {
    const ws = await cacheWorkspace();
    const [kvKey] = await (async () => {
      await (await chat(ws, chatBody("cached", "Usage"))).json();
      return waitForStored(ws.id);
    })();
    const entry = newCacheEntry(
      { id: "chatcmpl-stored", model: "gpt-4o-mini", created: 1_700_000_000, text: "stored text", toolCalls: [], finishReason: "stop", usage: { promptTokens: 11, completionTokens: 7, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
      { provider: "openai", model: "gpt-4o-mini" },
      600,
    );
    await env.CACHE_KV.put(kvKey!, JSON.stringify(entry), { expirationTtl: 600 });
    await caches.default.delete(cacheApiKeyOf(ws.id, hashOf(kvKey!)));
    const res = await chat(ws, chatBody("cached", "Usage"));
    expect(res.headers.get("x-switchyard-cache")).toBe("HIT");
    expect(await res.json()).toMatchObject({ id: "chatcmpl-stored", created: 1_700_000_000, choices: [{ message: { content: "stored text" } }], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } });
  });
});
