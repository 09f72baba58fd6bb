import { createMiddleware } from "hono/factory";
import { BACKGROUND_DEFERRAL_HEADER } from "../policy/batch-line-caller";
import type { UsageEvent } from "../usage/event";
import { usageEventSender } from "../usage/sender";
import type { AppEnv } from "../types";
import type { SettledRequest } from "./settle";

/** Who the request belongs to: known from authentication, before anything is served. */
export type EventOwner = { workspaceId: string; keyId: string | null };

/** The usage event of a settled request: a plain projection, so a new field is one schema line and one here. */
export function usageEventOf(settled: SettledRequest, owner: EventOwner): UsageEvent {
  return {
    v: 1,
    requestId: settled.eventId,
    clientRequestId: settled.clientRequestId,
    time: new Date(settled.startedAtMs).toISOString(),
    workspaceId: owner.workspaceId,
    keyId: owner.keyId,
    route: settled.route,
    operation: settled.operation,
    attempts: settled.attempts,
    answeredBy: settled.answeredBy,
    usage: settled.usage,
    usageEstimated: settled.usageEstimated,
    costUsd: settled.costUsd,
    cacheStatus: settled.cacheStatus,
    savedTokens: settled.savedTokens,
    savedUsd: settled.savedUsd,
    coalesced: settled.coalesced,
    stream: settled.stream,
    ttfbMs: settled.ttfbMs,
    totalMs: settled.totalMs,
    overheadMs: settled.overheadMs,
    status: settled.status,
    outcome: settled.outcome,
    errorType: settled.errorType,
    rescued: settled.rescued,
    metadata: settled.metadata,
    user: settled.user,
    trace: settled.trace,
    ...(settled.bodies ? { bodies: settled.bodies } : {}),
    ...(settled.guardrails ? { guardrails: settled.guardrails } : {}),
    batchId: null,
  };
}

/**
 * For every authenticated /v1 POST (chat, messages, embeddings): one usage event, built from the request's
 * settlement after the response is complete (streams included), never on the client's path. A line of a
 * gateway-run batch is keyed `<batch id>:<line index>` (written once, however often the line ran) and tied to its
 * batch; its event is also handed to the batch's consumer. A batch line deferred for lack of spare capacity sends
 * none: it has not run.
 *
 * @example app.use("/v1/*", usageRecording());
 */
export const usageRecording = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== "POST") return next();
    const queue = c.env.USAGE_QUEUE;
    const owner: EventOwner = { workspaceId: c.get("workspaceId"), keyId: c.get("key").id };
    const line = c.get("batchLine");
    let deferred = false;
    c.get("record").after((settled) => {
      if (!line) return usageEventSender.add(queue, usageEventOf(settled, owner));
      if (deferred) return undefined;
      const event: UsageEvent = { ...usageEventOf(settled, owner), requestId: `${line.batchId}:${line.index}`, clientRequestId: null, batchId: line.batchId };
      line.onSettled(event);
      return usageEventSender.add(queue, event);
    });
    await next();
    deferred = line !== undefined && c.res.headers.has(BACKGROUND_DEFERRAL_HEADER);
  });
