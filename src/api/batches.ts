import type { Context } from "hono";
import { Hono } from "hono";
import * as z from "zod";
import { cancelBatch } from "../batches/cancel";
import { createBatch, type BatchCaller } from "../batches/create";
import { renderOpenAIBatch } from "../batches/render";
import type { BatchRecord } from "../batches/schema";
import { findBatch, listBatches } from "../batches/store";
import { BatchEndpointSchema } from "../files/batch-lines";
import { GatewayError } from "../lib/errors";
import type { AppEnv } from "../types";
import { parseQuery, readJsonBody } from "./body";

/** OpenAI's metadata: at most 16 pairs, keys up to 64 and values up to 512 characters. */
export const BatchMetadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((metadata) => Object.keys(metadata).length <= 16, "at most 16 metadata pairs");

const CreateBatchSchema = z.strictObject({
  input_file_id: z.string().min(1),
  endpoint: BatchEndpointSchema,
  completion_window: z.literal("24h", { message: 'the only completion window is "24h"' }),
  metadata: BatchMetadataSchema.nullish(),
  output_expires_after: z.unknown().optional(),
});

const ListQuerySchema = z.strictObject({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const callerOf = (c: Context<AppEnv>): BatchCaller => ({ env: c.env, workspaceId: c.get("workspaceId"), config: c.get("config"), key: c.get("key") });

export async function requireBatch(c: Context<AppEnv>, id: string): Promise<BatchRecord> {
  const batch = await findBatch(c.env.USAGE_DB, c.get("workspaceId"), id);
  if (!batch) throw new GatewayError({ status: 404, type: "invalid_request_error", code: "batch_not_found", message: `No such batch: ${id}` });
  return batch;
}

/** /v1/batches: OpenAI's Batch API over every provider (src/batches/). */
export const batchesApi = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJsonBody(c, CreateBatchSchema);
    const batch = await createBatch(callerOf(c), { api: "openai", inputFileId: body.input_file_id, endpoint: body.endpoint, completionWindow: body.completion_window, metadata: body.metadata ?? null });
    return c.json(renderOpenAIBatch(batch));
  })
  .get("/", async (c) => {
    const query = parseQuery(ListQuerySchema, c.req.query());
    const { batches, hasMore } = await listBatches(c.env.USAGE_DB, c.get("workspaceId"), query);
    const data = batches.map(renderOpenAIBatch);
    return c.json({ object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore });
  })
  .get("/:id", async (c) => c.json(renderOpenAIBatch(await requireBatch(c, c.req.param("id")))))
  .post("/:id/cancel", async (c) => c.json(renderOpenAIBatch(await cancelBatch(c.env, await requireBatch(c, c.req.param("id"))))));
