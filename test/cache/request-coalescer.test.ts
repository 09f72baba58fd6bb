import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChatResult } from "../../src/schema/internal";

const coalescer = () => env.REQUEST_COALESCER.getByName(`unit:${crypto.randomUUID()}`);
const options = { maxWaitMs: 5_000, reuseCompletedMs: 0 };
const result: ChatResult = { id: "r", model: "m", created: 1, text: "hi", toolCalls: [], finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } };
const target = { provider: "openai", model: "m" };

async function lead(stub: ReturnType<typeof coalescer>, joinOptions = options) {
  const joined = await stub.join(joinOptions);
  if (joined.role !== "leader") throw new Error(`expected to lead, got ${joined.role}`);
  return joined;
}

describe("RequestCoalescer", () => {
  it("elects the first caller leader and makes the others followers of its flight", async () => {
    const stub = coalescer();
    const leader = await lead(stub);
    const follower = await stub.join(options);
    expect(follower).toMatchObject({ role: "follower", flight: leader.flight });
  });

  it("hands events to a waiting follower as soon as the leader publishes them, then the end", async () => {
    const stub = coalescer();
    const leader = await lead(stub);
    const waiting = stub.read(leader.flight, 0, 5_000, true);
    await stub.publish(leader.flight, leader.ticket, { events: [{ type: "start", id: "r", model: "m" }], target });
    expect(await waiting).toMatchObject({ next: 1, events: [{ type: "start" }], target });
    await stub.publish(leader.flight, leader.ticket, { events: [{ type: "text", delta: "hi" }, { type: "finish", finishReason: "stop" }], end: { kind: "complete", result, target, reusable: true } });
    expect(await stub.read(leader.flight, 1, 5_000, true)).toMatchObject({ next: 3, events: [{ type: "text" }, { type: "finish" }], end: { kind: "complete", result } });
  });

  it("refuses batches from anyone but the leader", async () => {
    const stub = coalescer();
    const leader = await lead(stub);
    expect(await stub.publish(leader.flight, "someone-else", { events: [] })).toEqual({ accepted: false });
    expect(await stub.publish("no-such-flight", leader.ticket, { events: [] })).toEqual({ accepted: false });
  });

  it("a read with nothing new returns after its wait, without progress", async () => {
    const stub = coalescer();
    const leader = await lead(stub);
    expect(await stub.read(leader.flight, 0, 50, true)).toEqual({ next: 0, events: [] });
  });

  it("abandons a leader silent for longer than maxWaitMs: the next caller leads a new flight", async () => {
    const stub = coalescer();
    const stale = await lead(stub, { maxWaitMs: 50, reuseCompletedMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    const next = await stub.join({ maxWaitMs: 50, reuseCompletedMs: 0 });
    expect(next.role).toBe("leader");
    expect(next.flight).not.toBe(stale.flight);
    expect(await stub.read(stale.flight, 0, 0, false)).toMatchObject({ end: { kind: "failed", shareable: false } });
    expect(await stub.publish(stale.flight, stale.ticket, { events: [] })).toEqual({ accepted: false });
  });

  it("a completed flight serves joiners only within the reuse window and when its answer is cached; a failed one never does", async () => {
    const stub = coalescer();
    const first = await lead(stub, { maxWaitMs: 5_000, reuseCompletedMs: 10_000 });
    await stub.publish(first.flight, first.ticket, { events: [], end: { kind: "complete", result, target, reusable: true } });
    expect(await stub.join({ maxWaitMs: 5_000, reuseCompletedMs: 10_000 })).toMatchObject({ role: "follower", flight: first.flight });
    expect((await stub.join({ maxWaitMs: 5_000, reuseCompletedMs: 0 })).role).toBe("leader");

    const uncached = coalescer();
    const toolCall = await lead(uncached);
    await uncached.publish(toolCall.flight, toolCall.ticket, { events: [], end: { kind: "complete", result, target, reusable: false } });
    expect((await uncached.join({ maxWaitMs: 5_000, reuseCompletedMs: 10_000 })).role).toBe("leader");

    const other = coalescer();
    const failed = await lead(other);
    await other.publish(failed.flight, failed.ticket, { events: [], end: { kind: "failed", error: { status: 503, type: "upstream_error", code: null, param: null, message: "down", headers: {} }, shareable: false } });
    expect((await other.join({ maxWaitMs: 5_000, reuseCompletedMs: 10_000 })).role).toBe("leader");
  });

  it("tells a reader of an unknown flight that it is lost", async () => {
    expect(await coalescer().read("unknown", 0, 0, true)).toMatchObject({ lost: true });
  });
});
