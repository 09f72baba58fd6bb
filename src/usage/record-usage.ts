import { createMiddleware } from "hono/factory";
import { newRequestId } from "../lib/ids";
import { BACKGROUND_DEFERRAL_HEADER } from "../policy/batch-line-caller";
import type { AppEnv } from "../types";
import { usageEventOf } from "./event";
import { usageEventSender } from "./sender";

/**
 * For every authenticated /v1 POST (chat, messages, embeddings): one usage event, sent in the settle step after
 * the response is complete (streams included), never on the client's path. A line of a gateway-run batch is
 * keyed `<batch id>:<line index>` (written once, however often the line ran) and tied to its batch; its event is
 * also handed to the batch's consumer. A batch line deferred for lack of spare capacity sends none: it has not run.
 *
 * @example app.use("/v1/*", usageRecording());
 */
export const usageRecording = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== "POST") return next();
    const { env } = c;
    const record = c.get("record");
    const workspaceId = c.get("workspaceId");
    const config = c.get("config");
    const line = c.get("batchLine");
    let deferred = false;
    if (line) {
      const identity = { requestId: `${line.batchId}:${line.index}`, clientRequestId: null, batchId: line.batchId };
      record.onSettle(() => {
        if (deferred) return;
        const event = usageEventOf(record, identity, workspaceId, config);
        line.onSettled(event);
        return usageEventSender.add(env.USAGE_QUEUE, () => event);
      });
    } else {
      // A client-chosen x-request-id is kept for correlation but is not trusted to be unique.
      const clientRequestId = c.req.header("x-request-id") === record.requestId ? record.requestId : null;
      const identity = { requestId: clientRequestId === null ? record.requestId : newRequestId(), clientRequestId };
      record.onSettle(() => usageEventSender.add(env.USAGE_QUEUE, () => usageEventOf(record, identity, workspaceId, config)));
    }
    await next();
    deferred = c.res.headers.has(BACKGROUND_DEFERRAL_HEADER);
  });
