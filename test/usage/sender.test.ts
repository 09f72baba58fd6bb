import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UsageEventSchema, type UsageEvent } from "../../src/usage/event";
import { UsageEventSender, messagesOf, sendsOf } from "../../src/usage/sender";
import { uniqueId, workspaceRows } from "./usage-helpers";

function event(workspaceId: string, bodyChars = 0): UsageEvent {
  return UsageEventSchema.parse({
    v: 1, requestId: uniqueId("req"), clientRequestId: null, time: new Date().toISOString(), workspaceId, keyId: null, route: null, operation: "chat",
    attempts: [], answeredBy: null, usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    usageEstimated: false, costUsd: 0, cacheStatus: null, savedTokens: 0, savedUsd: null, coalesced: false, stream: false, ttfbMs: null,
    totalMs: 1, overheadMs: 1, status: 400, outcome: "error", errorType: "invalid_request_error", rescued: false,
    ...(bodyChars > 0 ? { bodies: { request: "é".repeat(bodyChars), response: "", truncated: false } } : {}),
  });
}

describe("batched usage sends", () => {
  it("events added while a batch is open ride on its flush (one sendBatch, sent by the request that opened it), and all reach D1", async () => {
    const sender = new UsageEventSender();
    const events = [event("ws-batch"), event("ws-batch"), event("ws-batch")];
    const flushes = events.map((e) => sender.add(env.USAGE_QUEUE, e));
    expect(flushes[0]).toBeInstanceOf(Promise);
    expect(flushes.slice(1)).toEqual([undefined, undefined]);
    await flushes[0];
    // The next event opens a new batch.
    const later = event("ws-batch");
    const next = sender.add(env.USAGE_QUEUE, later);
    expect(next).toBeInstanceOf(Promise);
    await next;
    const rows = await workspaceRows("ws-batch", 4);
    expect(rows.map((r) => r.request_id).sort()).toEqual([...events, later].map((e) => e.requestId).sort());
  });

  it("a sendBatch that fails is retried, and what still fails rides on the next batch: at least once, nothing dropped", async () => {
    const sender = new UsageEventSender({ retryDelaysMs: [5] });
    let calls = 0;
    // The real Queue, refusing its first two sends (an outage), then delivering to the real consumer and D1.
    const flaky = {
      sendBatch: (messages: Iterable<MessageSendRequest>) => {
        calls++;
        return calls <= 2 ? Promise.reject(new Error("queue unavailable")) : env.USAGE_QUEUE.sendBatch(messages);
      },
    };
    const first = [event("ws-flaky"), event("ws-flaky")];
    const flush = sender.add(flaky, first[0]!);
    sender.add(flaky, first[1]!);
    await flush;
    // One send and one retry failed: both events are still held.
    expect(calls).toBe(2);
    expect(sender.buffered).toBe(2);
    const later = event("ws-flaky");
    await sender.add(flaky, later);
    expect(calls).toBe(3);
    expect(sender.buffered).toBe(0);
    const rows = await workspaceRows("ws-flaky", 3);
    expect(rows.map((r) => r.request_id).sort()).toEqual([...first, later].map((e) => e.requestId).sort());
  });

  it("packs events into messages of at most 100 KB (bytes, not characters), and messages into sendBatch calls within the Queue's limits", () => {
    const bytes = (events: UsageEvent[]) => events.reduce((sum, e) => sum + new TextEncoder().encode(JSON.stringify(e)).byteLength, 0);
    const small = Array.from({ length: 250 }, () => event("ws"));
    const messages = messagesOf(small);
    expect(messages.flat()).toEqual(small);
    expect(messages.length).toBeLessThan(10);
    expect(messages.every((m) => bytes(m) <= 100_000)).toBe(true);
    // Each event holds ~16 KB of two-byte characters: about 6 fit a message; counting characters would put ~12 in one.
    const big = Array.from({ length: 30 }, () => event("ws", 8_000));
    const packed = messagesOf(big);
    expect(packed.every((m) => bytes(m) <= 100_000)).toBe(true);
    expect(packed.flat()).toHaveLength(30);
    const sends = sendsOf(packed);
    expect(sends.every((s) => s.length <= 100 && bytes(s.flat()) <= 200_000)).toBe(true);
    expect(sends.flat(2)).toHaveLength(30);
  });
});
