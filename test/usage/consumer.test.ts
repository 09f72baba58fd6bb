import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { UsageEventSchema, type UsageEvent } from "../../src/usage/event";
import { callGateway, newWorkspace } from "../helpers";
import { uniqueId, usageRowsFor, workspaceRows } from "./usage-helpers";

function usageEvent(workspaceId: string, overrides: Partial<UsageEvent> = {}): UsageEvent {
  const requestId = uniqueId("req");
  return UsageEventSchema.parse({
    v: 1,
    requestId,
    clientRequestId: requestId,
    time: new Date().toISOString(),
    workspaceId,
    keyId: "key_1",
    route: null,
    operation: "chat",
    attempts: [{ provider: "openai", model: "gpt-4o-mini", status: 200, outcome: "success", latencyMs: 10 }],
    answeredBy: { provider: "openai", model: "gpt-4o-mini" },
    usage: { promptTokens: 10, completionTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    usageEstimated: false,
    costUsd: 0.0000045,
    cacheStatus: null,
    savedTokens: 0,
    savedUsd: null,
    coalesced: false,
    stream: false,
    ttfbMs: 12,
    totalMs: 15,
    overheadMs: 1,
    status: 200,
    outcome: "success",
    errorType: null,
    rescued: false,
    ...overrides,
  });
}

const message = (event: UsageEvent, attempts = 1) => ({ id: `msg-${event.requestId}`, timestamp: new Date(), attempts, body: event });

async function deliver(messages: ReturnType<typeof message>[]) {
  const batch = createMessageBatch("switchyard-usage", messages);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** A real D1 failure for chosen rows: a trigger that aborts their insert (no mock of the binding). */
const failInsertsWhen = (condition: string) =>
  env.USAGE_DB.exec(`CREATE TRIGGER IF NOT EXISTS usage_fail_injected BEFORE INSERT ON usage_events WHEN ${condition} BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
const stopFailing = () => env.USAGE_DB.exec("DROP TRIGGER IF EXISTS usage_fail_injected");

const countOf = async (requestId: string) =>
  (await env.USAGE_DB.prepare("SELECT COUNT(*) AS n FROM usage_events WHERE request_id = ?").bind(requestId).first<{ n: number }>())?.n;

afterEach(stopFailing);

describe("usage queue consumer", () => {
  it("writes a batch and acknowledges every message", async () => {
    const events = [usageEvent("ws-a"), usageEvent("ws-a")];
    const result = await deliver(events.map((e) => message(e)));
    expect(result.retryBatch.retry).toBe(false);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(events.map((e) => `msg-${e.requestId}`).sort());
    for (const event of events) expect(await countOf(event.requestId)).toBe(1);
  });

  it("a redelivered batch adds nothing twice", async () => {
    const events = [usageEvent("ws-b"), usageEvent("ws-b")];
    await deliver(events.map((e) => message(e)));
    const again = await deliver(events.map((e) => message(e, 2)));
    expect(again.retryMessages).toEqual([]);
    for (const event of events) expect(await countOf(event.requestId)).toBe(1);
  });

  it("retries only the events whose write failed, and they land exactly once on redelivery", async () => {
    const good = usageEvent("ws-c");
    const poisoned = usageEvent("ws-poisoned");
    await failInsertsWhen("NEW.workspace_id = 'ws-poisoned'");
    const first = await deliver([message(good), message(poisoned)]);
    expect(first.explicitAcks).toEqual([`msg-${good.requestId}`]);
    expect(first.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual([`msg-${poisoned.requestId}`]);
    expect(await countOf(good.requestId)).toBe(1);
    expect(await countOf(poisoned.requestId)).toBe(0);

    await stopFailing();
    // The Queue redelivers the failed message (and, at worst, the whole batch again).
    const second = await deliver([message(good, 2), message(poisoned, 2)]);
    expect(second.retryMessages).toEqual([]);
    expect(await countOf(good.requestId)).toBe(1);
    expect(await countOf(poisoned.requestId)).toBe(1);
  });

  it("a message carrying many events (one isolate's flush) writes them all; a bad one among them only retries that message", async () => {
    const events = [usageEvent("ws-many"), usageEvent("ws-many"), usageEvent("ws-many-poisoned"), usageEvent("ws-many")];
    const batchMessage = (attempts: number) => ({ id: "msg-many", timestamp: new Date(), attempts, body: { v: 1, events } as unknown as UsageEvent });
    const alone = usageEvent("ws-many");
    await failInsertsWhen("NEW.workspace_id = 'ws-many-poisoned'");
    const first = await deliver([batchMessage(1), message(alone)]);
    expect(first.explicitAcks).toEqual([`msg-${alone.requestId}`]);
    expect(first.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["msg-many"]);
    expect(await Promise.all(events.map((e) => countOf(e.requestId)))).toEqual([1, 1, 0, 1]);
    await stopFailing();
    const second = await deliver([batchMessage(2)]);
    expect(second.explicitAcks).toEqual(["msg-many"]);
    expect(await Promise.all([...events, alone].map((e) => countOf(e.requestId)))).toEqual([1, 1, 1, 1, 1]);
  });

  it("retries a message that is not a usage event (so it ends in the dead-letter queue), writing the rest", async () => {
    const good = usageEvent("ws-d");
    const result = await deliver([message(good), { id: "msg-bad", timestamp: new Date(), attempts: 3, body: { hello: "world" } as unknown as UsageEvent }]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["msg-bad"]);
    expect(await countOf(good.requestId)).toBe(1);
  });
});

describe("usage events end to end through the local Queue", () => {
  it("a failed D1 write is retried by the Queue and the event lands exactly once", async () => {
    const ws = await newWorkspace();
    // Fail every first delivery of this workspace's events; redeliveries succeed.
    await failInsertsWhen(`NEW.workspace_id = '${ws.id}' AND NEW.delivery_attempts < 2`);
    const id = uniqueId("req");
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }, { "x-request-id": id });
    expect(res.status).toBe(200);
    const rows = await usageRowsFor(id, 1, 20_000);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.delivery_attempts).toBe(2);
  });

  it("an event sent twice through the Queue is stored once", async () => {
    const event = usageEvent("ws-e2e");
    await env.USAGE_QUEUE.sendBatch([{ body: event }, { body: event }]);
    await workspaceRows("ws-e2e", 1);
    // A sentinel sent after a third copy: once it landed, the copy before it was processed too.
    const sentinel = usageEvent("ws-e2e");
    await env.USAGE_QUEUE.sendBatch([{ body: event }, { body: sentinel }]);
    const rows = await workspaceRows("ws-e2e", 2);
    expect(rows.map((r) => r.request_id).sort()).toEqual([event.requestId, sentinel.requestId].sort());
    expect(await countOf(event.requestId)).toBe(1);
  });
});
