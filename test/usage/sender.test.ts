import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UsageEventSchema, type UsageEvent } from "../../src/usage/event";
import { UsageEventSender, chunksOf } from "../../src/usage/sender";
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
  it("events added while a batch is open share its flush (one sendBatch), and all reach D1", async () => {
    const sender = new UsageEventSender();
    const events = [event("ws-batch"), event("ws-batch"), event("ws-batch")];
    const flushes = events.map((e) => sender.add(env.USAGE_QUEUE, () => e));
    expect(new Set(flushes).size).toBe(1);
    await flushes[0];
    // The next event opens a new batch.
    const later = event("ws-batch");
    expect(sender.add(env.USAGE_QUEUE, () => later)).not.toBe(flushes[0]);
    const rows = await workspaceRows("ws-batch", 4);
    expect(rows.map((r) => r.request_id).sort()).toEqual([...events, later].map((e) => e.requestId).sort());
  });

  it("splits at the Queue's limits: 100 messages, and bytes (not characters) per batch", () => {
    expect(chunksOf(Array.from({ length: 250 }, () => event("ws"))).map((c) => c.length)).toEqual([100, 100, 50]);
    // Each event holds ~16 KB of two-byte characters: about 12 fit the byte budget; counting characters would put ~23 in one.
    const big = Array.from({ length: 30 }, () => event("ws", 8_000));
    const chunks = chunksOf(big);
    expect(chunks.every((c) => c.reduce((sum, e) => sum + new TextEncoder().encode(JSON.stringify(e)).byteLength, 0) <= 200_000)).toBe(true);
    expect(chunks.flat()).toHaveLength(30);
  });
});
