import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { coalescerName } from "../../src/cache/coalesce";
import { cacheKeyFor } from "../../src/cache/key";
import { openAIChatToInternal } from "../../src/dialects/openai-chat";
import { OpenAIChatRequestSchema } from "../../src/schema/openai";
import { anthropicClient, newWorkspace, readSSE, scriptFaults, simulatorProviders, upstreamRequests, type TestWorkspace } from "../helpers";
import { cacheWorkspace, chat, chatBody, sleep } from "./support";

type Completion = { id: string; choices: { message: { content: string } }[]; usage: { total_tokens: number } };
type Chunk = { id: string; choices: { delta?: { content?: string }; finish_reason?: string | null }[]; usage?: { total_tokens: number } | null };

const chunksOf = (frames: { data: string }[]) => frames.filter((f) => f.data !== "[DONE]").map((f) => JSON.parse(f.data) as Chunk);
const textOf = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");

async function waitForUpstream(ws: TestWorkspace, count: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await upstreamRequests(ws.scenario)).length >= count) return;
    await sleep(10);
  }
  throw new Error(`the simulator never received ${count} requests`);
}

/** The coalescing object of a request, as the gateway names it (to look inside with `describe()`). */
async function coalescerOf(ws: TestWorkspace, body: unknown) {
  const request = openAIChatToInternal(OpenAIChatRequestSchema.parse(body));
  const hash = await cacheKeyFor(ws.id, { provider: "openai", model: "gpt-4o-mini" }, request, { includeUser: false });
  return env.REQUEST_COALESCER.getByName(coalescerName(ws.id, hash));
}

const decoder = new TextDecoder();
async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value, done } = await reader.read();
  return done ? "" : decoder.decode(value);
}
async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>, start = ""): Promise<string> {
  let text = start;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value);
  }
}

describe("coalescing identical in-flight requests", () => {
  it("20 concurrent identical requests reach a slow upstream once and all get the complete answer", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [], { delayMs: 400 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => chat(ws, chatBody("cached", "Twenty at once"))));
    const bodies = await Promise.all(responses.map((res) => res.json<Completion>()));
    expect(responses.map((res) => res.status)).toEqual(Array(20).fill(200));
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(bodies[0]!.choices[0]!.message.content).toBe("Hello from the simulator. You said: Twenty at once");
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
    expect(responses.filter((res) => res.headers.get("x-switchyard-coalesced") === "true")).toHaveLength(19);
    expect(new Set(responses.map((res) => res.headers.get("x-switchyard-cache")))).toEqual(new Set(["MISS"]));
  });

  it("20 concurrent identical streamed requests reach a slow upstream once and all get the complete stream with usage", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [], { delayMs: 200, chunkDelayMs: 30 });
    const body = chatBody("cached", "Twenty streams at once please", { stream: true, stream_options: { include_usage: true } });
    const responses = await Promise.all(Array.from({ length: 20 }, () => chat(ws, body)));
    const streams = await Promise.all(responses.map(async (res) => readSSE(res)));
    const expected = "Hello from the simulator. You said: Twenty streams at once please";
    for (const frames of streams) {
      expect(frames.at(-1)?.data).toBe("[DONE]");
      const chunks = chunksOf(frames);
      expect(textOf(chunks)).toBe(expected);
      expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
      expect(chunks.at(-1)?.usage?.total_tokens).toBe(chunksOf(streams[0]!).at(-1)?.usage?.total_tokens);
      expect(new Set(chunks.map((c) => c.id))).toEqual(new Set([chunksOf(streams[0]!)[0]!.id]));
    }
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
    expect(responses.filter((res) => res.headers.get("x-switchyard-coalesced") === "true")).toHaveLength(19);
  });

  it("identical requests on a route without cache or coalescing each call upstream", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [], { delayMs: 200 });
    const responses = await Promise.all(Array.from({ length: 3 }, () => chat(ws, chatBody("plain", "Not shared"))));
    await Promise.all(responses.map((res) => res.json()));
    expect(await upstreamRequests(ws.scenario)).toHaveLength(3);
    expect(responses.every((res) => res.headers.get("x-switchyard-cache") === null && res.headers.get("x-switchyard-coalesced") === null)).toBe(true);
  });

  it("a follower of a streamed leader receives the stream as it arrives, before the leader's stream ended", async () => {
    const ws = await cacheWorkspace();
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    await scriptFaults(ws.scenario, [], { chunkDelayMs: 20, text: words });
    const body = chatBody("coalesced", "Stream to two", { stream: true });

    const leader = await chat(ws, body);
    const leaderReader = leader.body!.getReader();
    const leaderFirst = await readChunk(leaderReader);
    expect(leaderFirst).toContain("chat.completion.chunk");

    // The leader's client now pauses: its stream cannot have finished, yet the follower starts receiving.
    const follower = await chat(ws, body);
    expect(follower.headers.get("x-switchyard-coalesced")).toBe("true");
    expect(follower.headers.get("x-switchyard-cache")).toBeNull();
    const followerReader = follower.body!.getReader();
    const followerFirst = await readChunk(followerReader);
    expect(followerFirst).toContain('"role":"assistant"');
    const state = await (await coalescerOf(ws, body)).describe();
    expect(state.flights).toHaveLength(1);
    expect(state.flights[0]).toMatchObject({ ended: null, followers: 1 });

    const [leaderText, followerText] = await Promise.all([readRest(leaderReader, leaderFirst), readRest(followerReader, followerFirst)]);
    const leaderChunks = chunksOf(await readSSE(new Response(leaderText)));
    const followerChunks = chunksOf(await readSSE(new Response(followerText)));
    expect(textOf(followerChunks)).toBe(words);
    expect(textOf(leaderChunks)).toBe(words);
    expect(followerText.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("a streamed follower of a non-streamed leader gets the answer as a valid stream", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [], { delayMs: 500 });
    const leader = chat(ws, chatBody("coalesced", "Mixed"));
    await waitForUpstream(ws, 1);
    const follower = await chat(ws, chatBody("coalesced", "Mixed", { stream: true, stream_options: { include_usage: true } }));
    const leaderBody = await (await leader).json<Completion>();
    const frames = await readSSE(follower);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    const chunks = chunksOf(frames);
    expect(textOf(chunks)).toBe(leaderBody.choices[0]!.message.content);
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(leaderBody.usage.total_tokens);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("when the leader fails in a way a retry might not (503), followers call upstream themselves", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [{ status: 503, delayMs: 400 }]);
    const leader = chat(ws, chatBody("cached", "Leader fails"));
    await waitForUpstream(ws, 1);
    const followers = await Promise.all(Array.from({ length: 4 }, () => chat(ws, chatBody("cached", "Leader fails"))));
    expect((await leader).status).toBe(502);
    expect(followers.map((res) => res.status)).toEqual([200, 200, 200, 200]);
    for (const res of followers) expect((await res.json<Completion>()).choices[0]!.message.content).toBe("Hello from the simulator. You said: Leader fails");
    expect((await upstreamRequests(ws.scenario)).length).toBeGreaterThanOrEqual(2);
  });

  it("when the leader's error is the request's own fault (400), followers fail with the same error without calling upstream", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [{ status: 400, message: "This request is malformed", delayMs: 400 }]);
    const leader = chat(ws, chatBody("cached", "Bad request"));
    await waitForUpstream(ws, 1);
    const followers = await Promise.all(Array.from({ length: 4 }, () => chat(ws, chatBody("cached", "Bad request"))));
    const all = [await leader, ...followers];
    expect(all.map((res) => res.status)).toEqual([400, 400, 400, 400, 400]);
    for (const res of all) expect((await res.json<{ error: { message: string } }>()).error.message).toContain("This request is malformed");
    expect(followers.every((res) => res.headers.get("x-switchyard-coalesced") === "true")).toBe(true);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("a follower whose leader makes no progress in time goes its own way", async () => {
    const ws = await cacheWorkspace({
      routes: { patient: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, coalesce: { maxWaitMs: 300 } } },
    });
    await scriptFaults(ws.scenario, [{ delayMs: 4_000 }]);
    const leader = chat(ws, chatBody("patient", "Slow leader"));
    await waitForUpstream(ws, 1);
    const follower = await chat(ws, chatBody("patient", "Slow leader"));
    expect(follower.status).toBe(200);
    expect(follower.headers.get("x-switchyard-coalesced")).toBeNull();
    expect((await follower.json<Completion>()).choices[0]!.message.content).toBe("Hello from the simulator. You said: Slow leader");
    expect(await upstreamRequests(ws.scenario)).toHaveLength(2);
    expect((await leader).status).toBe(200);
  });

  it("a leader's stream that breaks off ends committed followers with an error, never as a complete answer", async () => {
    const ws = await cacheWorkspace();
    await scriptFaults(ws.scenario, [{ chunkDelayMs: 60, dropAfterEvents: 6, drop: "abort", text: "one two three four five six seven eight nine ten" }]);
    const body = chatBody("cached", "Fragile stream", { stream: true });
    const leader = await chat(ws, body);
    const leaderReader = leader.body!.getReader();
    const leaderFirst = await readChunk(leaderReader);
    const follower = await chat(ws, body);
    expect(follower.headers.get("x-switchyard-coalesced")).toBe("true");
    const followerReader = follower.body!.getReader();

    const [leaderOutcome, followerOutcome] = await Promise.all([
      readRest(leaderReader, leaderFirst).then((text) => ({ text, failed: false }), () => ({ text: "", failed: true })),
      (async () => {
        let text = "";
        try {
          for (;;) {
            const { value, done } = await followerReader.read();
            if (done) return { text, failed: false };
            text += decoder.decode(value);
          }
        } catch {
          return { text, failed: true };
        }
      })(),
    ]);
    // Both response streams fail (the error event itself may be dropped with the failed stream's queue), and
    // neither looks complete: no finish chunk, no [DONE].
    expect(leaderOutcome.text).not.toContain("[DONE]");
    expect(followerOutcome.failed).toBe(true);
    expect(followerOutcome.text).toContain('"role":"assistant"');
    expect(followerOutcome.text).not.toContain('"finish_reason":"stop"');
    expect(followerOutcome.text).not.toContain("[DONE]");
    await sleep(200);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
    // Nothing half-done was stored: the next request calls upstream.
    const next = await chat(ws, chatBody("cached", "Fragile stream"));
    expect(next.headers.get("x-switchyard-cache")).toBe("MISS");
    await next.json();
  });

  it("coalesces /v1/messages too: concurrent Anthropic SDK streams share one upstream call", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { claude: { strategy: "single", target: { provider: "anthropic", model: "claude-sonnet-4-5" }, coalesce: true } },
    }));
    await scriptFaults(ws.scenario, [], { delayMs: 300, chunkDelayMs: 20 });
    const client = anthropicClient(ws.key);
    const finals = await Promise.all(
      Array.from({ length: 5 }, () => client.messages.stream({ model: "claude", max_tokens: 100, messages: [{ role: "user", content: "Share this" }] }).finalMessage()),
    );
    for (const final of finals) {
      expect(final.content).toEqual(finals[0]!.content);
      expect(final.stop_reason).toBe("end_turn");
      expect(final.usage.output_tokens).toBe(finals[0]!.usage.output_tokens);
    }
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });
});
