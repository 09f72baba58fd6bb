import { JSONParser } from "@streamparser/json";
import * as z from "zod";
import { BatchFileValidator } from "../files/batch-lines";
import { R2StreamWriter } from "../files/r2-writer";
import type { FileRecord } from "../files/schema";
import { fileObjectKey, insertFileRecord, newFileId } from "../files/store";
import { GatewayError, badRequest } from "../lib/errors";
import { byteStream } from "../lib/byte-stream";

/**
 * POST /v1/messages/batches takes its requests inline (Anthropic allows 256 MB). The body is parsed as it
 * streams (@streamparser/json, one `requests[i]` at a time) and written to R2 as the OpenAI-style JSONL input
 * file every batch runs from, so both APIs share one machinery and neither holds a body whole.
 */

/** Anthropic's own rule for custom_id. */
const AnthropicRequestSchema = z.strictObject({
  custom_id: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "1-64 letters, digits, _ or -"),
  params: z.record(z.string(), z.unknown()),
});

const tooLarge = (maxBytes: number) => new GatewayError({ status: 413, type: "invalid_request_error", code: "request_too_large", message: `The request body is larger than this workspace's limit of ${maxBytes} bytes (files.maxBytes).` });

export async function receiveAnthropicRequests(env: Env, workspaceId: string, request: Request, maxBytes: number): Promise<FileRecord> {
  const contentType = request.headers.get("content-type");
  if (contentType !== null && !/^application\/json\s*(?:;|$)/i.test(contentType)) {
    throw new GatewayError({ status: 415, type: "invalid_request_error", code: "unsupported_media_type", message: "The body must be JSON." });
  }
  if (Number(request.headers.get("content-length") ?? 0) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) throw badRequest("The request body is empty; send {\"requests\": [...]}.", "requests");
  const id = newFileId();
  const writer = new R2StreamWriter(env.FILES, fileObjectKey(workspaceId, id), { httpMetadata: { contentType: "application/octet-stream" } });
  const validator = new BatchFileValidator();
  const items: { index: number; value: unknown }[] = [];
  const parser = new JSONParser({ paths: ["$.requests.*"], keepStack: false });
  parser.onValue = ({ value, key }) => items.push({ index: Number(key), value });
  const reader = byteStream(request.body).getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      try {
        // The parser ends itself after the root value; ending it again would throw.
        if (done) {
          if (!parser.isEnded) parser.end();
        } else parser.write(value);
      } catch {
        throw badRequest("The request body is not valid JSON.", null, "invalid_json");
      }
      if (!done && (bytes += value.byteLength) > maxBytes) throw tooLarge(maxBytes);
      for (const item of items.splice(0)) {
        const parsed = AnthropicRequestSchema.safeParse(item.value);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          const field = issue.code === "unrecognized_keys" ? issue.keys[0]! : issue.path.map(String).join(".");
          const param = `requests.${item.index}${field ? `.${field}` : ""}`;
          throw badRequest(`${param}: ${issue.message}`, param, "invalid_value");
        }
        const text = JSON.stringify({ custom_id: parsed.data.custom_id, method: "POST", url: "/v1/messages", body: parsed.data.params });
        try {
          validator.line({ number: item.index + 1, text });
        } catch (error) {
          if (error instanceof GatewayError && error.code === "duplicate_custom_id") {
            throw badRequest(`requests.${item.index}.custom_id: "${parsed.data.custom_id}" is used by another request of the batch.`, `requests.${item.index}.custom_id`, "duplicate_custom_id");
          }
          throw error;
        }
        await writer.writeText(`${text}\n`);
      }
      if (done) break;
    }
    let lineCount: number;
    try {
      lineCount = validator.finish();
    } catch {
      throw badRequest("requests: at least one request is required.", "requests", "invalid_value");
    }
    const size = await writer.close();
    const record: FileRecord = { id, workspaceId, filename: "message_batch_requests.jsonl", purpose: "batch", bytes: size, createdAt: Math.floor(Date.now() / 1000), lineCount };
    await insertFileRecord(env.USAGE_DB, record);
    return record;
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    await writer.abort();
    await env.FILES.delete(fileObjectKey(workspaceId, id)).catch(() => undefined);
    throw error;
  }
}
