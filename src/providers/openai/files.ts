import * as z from "zod";
import type { ProviderCall } from "../batch";
import { readJson } from "../http";

/**
 * OpenAI's Files API as the gateway uses it toward OpenAI-format providers (OpenAI, Azure OpenAI): a JSONL file
 * uploaded as multipart/form-data whose file part is produced while it is sent, never held whole.
 */

export const ProviderFileSchema = z.object({ id: z.string(), status: z.string().nullish(), status_details: z.string().nullish() });
export type ProviderFile = z.infer<typeof ProviderFileSchema>;

const encoder = new TextEncoder();

/** A multipart/form-data body (`purpose`, `file`) whose file part is produced as it is sent. */
function multipartBody(lines: AsyncIterable<string>, filename: string, purpose: string): { body: ReadableStream<Uint8Array>; contentType: string } {
  const boundary = `switchyard-${crypto.randomUUID()}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/jsonl\r\n\r\n`;
  const iterator = lines[Symbol.asyncIterator]();
  let state: "head" | "lines" | "done" = "head";
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (state === "head") {
        state = "lines";
        controller.enqueue(encoder.encode(head));
        return;
      }
      const next = await iterator.next();
      if (!next.done) {
        controller.enqueue(encoder.encode(next.value));
        return;
      }
      if (state === "lines") {
        state = "done";
        controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
      }
      controller.close();
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Uploads `lines` as a file of `purpose` to `url` (the provider's /files); returns the provider's file object. */
export async function uploadFile(call: ProviderCall, provider: string, url: string, headers: Record<string, string>, lines: AsyncIterable<string>, filename: string, purpose: string): Promise<ProviderFile> {
  const upload = multipartBody(lines, filename, purpose);
  const response = await call(new Request(url, { method: "POST", headers: { ...headers, "content-type": upload.contentType }, body: upload.body }));
  return readJson(response, ProviderFileSchema, provider, "file object");
}
