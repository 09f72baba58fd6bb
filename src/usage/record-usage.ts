import { createMiddleware } from "hono/factory";
import { newRequestId } from "../lib/ids";
import type { AppEnv } from "../types";
import { usageEventOf } from "./event";
import { usageEventSender } from "./sender";

/**
 * For every authenticated /v1 POST (chat, messages, embeddings): one usage event, sent in the settle step after
 * the response is complete (streams included), never on the client's path.
 *
 * @example app.use("/v1/*", usageRecording());
 */
export const usageRecording = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method === "POST") {
      const { env } = c;
      const record = c.get("record");
      const workspaceId = c.get("workspaceId");
      // A client-chosen x-request-id is kept for correlation but is not trusted to be unique.
      const clientRequestId = c.req.header("x-request-id") === record.requestId ? record.requestId : null;
      const identity = { requestId: clientRequestId === null ? record.requestId : newRequestId(), clientRequestId };
      // The config as the request ended with it: the handler may have priced a tuned model into it.
      record.onSettle(() => usageEventSender.add(env.USAGE_QUEUE, () => usageEventOf(record, identity, workspaceId, c.get("config"))));
    }
    await next();
  });
