import { createMiddleware } from "hono/factory";
import { RequestRecord } from "../settle/record";
import type { AppEnv } from "../types";
import { newRequestId } from "../lib/ids";
import { Redactor } from "../lib/redact";

/** A client-sent request id is kept when it is short and printable; anything else is replaced. */
const CLIENT_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * First middleware of every request: request id, timing, the request record, the secret redactor, and the settle step in
 * `waitUntil`. On the way out it stamps `x-request-id` and `x-switchyard-overhead-ms` on every response.
 */
export const requestContext = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const startedAt = performance.now();
    const sent = c.req.header("x-request-id");
    const requestId = sent !== undefined && CLIENT_REQUEST_ID.test(sent) ? sent : newRequestId();
    // A client-chosen x-request-id is kept for correlation but is not trusted to be unique: the usage event gets its own.
    const clientRequestId = requestId === sent ? sent : null;
    const record = new RequestRecord({ requestId, eventId: clientRequestId === null ? requestId : newRequestId(), clientRequestId }, startedAt);
    c.set("requestId", requestId);
    c.set("startedAt", startedAt);
    c.set("record", record);
    c.set("redactor", new Redactor());
    c.set("dialect", c.req.path === "/v1/messages" || c.req.path.startsWith("/v1/messages/") ? "anthropic" : "openai");
    c.executionCtx.waitUntil(record.settle());
    try {
      await next();
    } finally {
      // Whatever did not finish the record by now (errors, admin calls, non-stream paths) is finished here;
      // streams finish it themselves when their last byte is sent.
      if (!(c.res.body instanceof ReadableStream && c.res.headers.get("content-type")?.startsWith("text/event-stream"))) {
        record.finish(c.res.status < 400 ? "success" : "error");
      }
      const overheadMs = Math.max(0, performance.now() - startedAt - record.upstreamMs);
      record.responded(c.res.status, overheadMs);
      c.res.headers.set("x-request-id", requestId);
      c.res.headers.set("x-switchyard-overhead-ms", overheadMs.toFixed(3));
    }
  });
