import { fixedSizeChunks } from "../../lib/chunks";
import type { ProviderCall } from "../batch";
import { invalidUpstream, jsonRequest } from "../http";
import type { UpstreamTarget } from "../types";
import { vertexAuthorization } from "./auth";
import type { VertexConfig } from "./chat";

/**
 * Writing to Cloud Storage through its JSON API with the service account's token: Vertex AI reads batch inputs and
 * tuning datasets from a bucket. Lines are produced as they are sent, in resumable-upload chunks (8 MiB), never
 * held whole.
 */

/** Cloud Storage's resumable uploads take chunks in multiples of 256 KiB. */
const UPLOAD_CHUNK_BYTES = 32 * 256 * 1024;

/** Writes the lines to gs://bucket/name with Cloud Storage's resumable protocol. */
export async function uploadLines(target: UpstreamTarget<VertexConfig>, call: ProviderCall, bucket: string, name: string, lines: AsyncIterable<string>): Promise<void> {
  const auth = await vertexAuthorization(target);
  const storage = target.config.storageURL;
  const started = await call(
    jsonRequest(`${storage}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}`, { ...auth, "x-upload-content-type": "application/jsonl" }, {}),
  );
  const session = started.headers.get("location");
  if (!session) throw invalidUpstream(target.providerName, "no resumable upload session for the upload");
  for await (const chunk of fixedSizeChunks(lines, UPLOAD_CHUNK_BYTES)) {
    const end = chunk.offset + chunk.bytes.byteLength;
    const range = chunk.bytes.byteLength === 0 ? `bytes */${end}` : `bytes ${chunk.offset}-${end - 1}/${chunk.last ? end : "*"}`;
    // 308 ("resume incomplete") acknowledges every chunk but the last.
    await call(new Request(session, { method: "PUT", headers: { ...auth, "content-range": range }, body: chunk.bytes, redirect: "manual" }), { accept: (status) => status === 308 });
  }
}
