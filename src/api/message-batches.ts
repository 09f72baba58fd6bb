import type { Context } from "hono";
import { Hono } from "hono";
import * as z from "zod";
import { receiveAnthropicRequests } from "../batches/anthropic-requests";
import { cancelBatch } from "../batches/cancel";
import { createBatch } from "../batches/create";
import { renderAnthropicBatch } from "../batches/render";
import type { BatchRecord } from "../batches/schema";
import { isFinal } from "../batches/schema";
import { listBatches } from "../batches/store";
import { linesOf } from "../lib/jsonl";
import { maxFileBytesOf } from "../files/options";
import { deleteFile, openFileContent, requireFile } from "../files/store";
import { GatewayError, badRequest } from "../lib/errors";
import type { AppEnv } from "../types";
import { callerOf, requireBatch } from "./batches";
import { parseQuery } from "./body";

/**
 * /v1/messages/batches: Anthropic's Message Batches API (the Anthropic SDK's `messages.batches.*`) on the same
 * machinery as /v1/batches, in Anthropic's shapes; errors in Anthropic's shape too (src/pipeline/request-context.ts).
 */

const ListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  after_id: z.string().min(1).optional(),
  before_id: z.string().min(1).optional(),
});

const originOf = (c: Context<AppEnv>) => new URL(c.req.url).origin;

async function requireMessageBatch(c: Context<AppEnv>, id: string): Promise<BatchRecord> {
  const batch = await requireBatch(c, id);
  if (batch.endpoint !== "/v1/messages") throw new GatewayError({ status: 404, type: "not_found_error", code: "batch_not_found", message: `No such message batch: ${id}` });
  return batch;
}

const encoder = new TextEncoder();

/** An OpenAI-format result line as Anthropic's: succeeded (the message), errored, canceled or expired. */
function anthropicResultOf(line: string): string | undefined {
  const parsed = JSON.parse(line) as { custom_id: string; response: { status_code: number; body: unknown } | null; error: { code: string } | null };
  let result: unknown;
  if (parsed.response && parsed.response.status_code === 200) result = { type: "succeeded", message: parsed.response.body };
  else if (parsed.response) result = { type: "errored", error: parsed.response.body };
  else if (parsed.error?.code === "batch_cancelled") result = { type: "canceled" };
  else result = { type: "expired" };
  return `${JSON.stringify({ custom_id: parsed.custom_id, result })}\n`;
}

export const messageBatchesApi = new Hono<AppEnv>()
  .post("/", async (c) => {
    const caller = callerOf(c);
    const file = await receiveAnthropicRequests(c.env, caller.workspaceId, c.req.raw, maxFileBytesOf(caller.config));
    try {
      const batch = await createBatch(caller, { api: "anthropic", inputFileId: file.id, endpoint: "/v1/messages", completionWindow: "24h", metadata: null });
      return c.json(renderAnthropicBatch(batch, originOf(c)));
    } catch (error) {
      await deleteFile(c.env, caller.workspaceId, file.id);
      // Lines of the internal file are the request list's entries: name them as Anthropic's clients know them.
      const line = error instanceof GatewayError ? /^Line (\d+) of the input file: (.*)$/s.exec(error.message) : null;
      if (error instanceof GatewayError && line) {
        const field = error.param && !error.param.startsWith("line ") ? `.${error.param.replace(/^body\b/, "params")}` : "";
        const param = `requests.${Number(line[1]) - 1}${field}`;
        throw badRequest(`${param}: ${line[2]}`, param, error.code);
      }
      throw error;
    }
  })
  .get("/", async (c) => {
    const query = parseQuery(ListQuerySchema, c.req.query());
    const { batches, hasMore } = await listBatches(c.env.USAGE_DB, c.get("workspaceId"), { limit: query.limit, after: query.after_id, before: query.before_id, api: "anthropic" });
    const data = batches.map((b) => renderAnthropicBatch(b, originOf(c)));
    return c.json({ data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
  })
  .get("/:id", async (c) => c.json(renderAnthropicBatch(await requireMessageBatch(c, c.req.param("id")), originOf(c))))
  .post("/:id/cancel", async (c) => c.json(renderAnthropicBatch(await cancelBatch(c.env, await requireMessageBatch(c, c.req.param("id"))), originOf(c))))
  .delete("/:id", async (c) => {
    const batch = await requireMessageBatch(c, c.req.param("id"));
    if (!isFinal(batch.status)) throw badRequest(`Batch ${batch.id} is still processing; cancel it first.`, null, "batch_not_ended");
    await c.env.USAGE_DB.prepare("DELETE FROM batches WHERE workspace_id = ? AND id = ?").bind(batch.workspaceId, batch.id).run();
    return c.json({ id: batch.id, type: "message_batch_deleted" });
  })
  .get("/:id/results", async (c) => {
    const batch = await requireMessageBatch(c, c.req.param("id"));
    if (!isFinal(batch.status) || batch.status === "failed") throw badRequest(`Batch ${batch.id} has no results yet (processing_status is not "ended").`, null, "batch_not_ended");
    const files = await Promise.all([batch.outputFileId, batch.errorFileId].flatMap((id) => (id ? [requireFile(c.env, batch.workspaceId, id)] : [])));
    const env = c.env;
    async function* results(): AsyncGenerator<Uint8Array> {
      for (const file of files) for await (const line of linesOf(await openFileContent(env, file))) if (line.text.trim() !== "") yield encoder.encode(anthropicResultOf(line.text));
    }
    const iterator = results();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
    });
    return new Response(body, { headers: { "content-type": "application/binary" } });
  });
