import * as z from "zod";
import { fixedSizeChunks } from "../../lib/chunks";
import { invalidUpstream } from "../http";
import type { ProviderCall } from "../batch";
import type { UpstreamTarget } from "../types";
import { awsClientOf, type BedrockConfig } from "./signing";

/**
 * Putting lines into S3 (SigV4 with the provider's credentials, service `s3`), as they are produced: one PutObject
 * for a small file, a multipart upload in 8 MiB parts for a larger one (S3 wants parts of at least 5 MiB but the
 * last). Every part's SHA-256 is signed as its payload hash, so S3 checks what it received.
 */

const PART_BYTES = 8 * 1024 * 1024;

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (bytes: Uint8Array) => hex(await crypto.subtle.digest("SHA-256", bytes));

/** The object's URL: virtual-hosted at AWS, path-style under `s3URL` (S3-compatible endpoints, tests). */
export function objectURL(config: BedrockConfig, bucket: string, key: string): string {
  const path = key.split("/").map(encodeURIComponent).join("/");
  return config.s3URL ? `${config.s3URL}/${bucket}/${path}` : `https://${bucket}.s3.${config.region}.amazonaws.com/${path}`;
}

const UploadIdSchema = z.string().regex(/^[A-Za-z0-9._~+=/-]{1,1024}$/);

/** The one value the gateway reads from S3's XML answers. */
function xmlValue(xml: string, element: string): string | undefined {
  return new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml)?.[1];
}

export async function putLines(target: UpstreamTarget<BedrockConfig>, call: ProviderCall, bucket: string, key: string, lines: AsyncIterable<string>): Promise<void> {
  const client = await awsClientOf(target, "s3");
  const url = objectURL(target.config, bucket, key);
  const send = async (method: string, query: string, body: Uint8Array | string, headers: Record<string, string> = {}) => {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    return call(await client.sign(`${url}${query}`, { method, headers: { ...headers, "x-amz-content-sha256": await sha256(bytes) }, body: bytes }));
  };
  let uploadId: string | undefined;
  const parts: string[] = [];
  try {
    for await (const chunk of fixedSizeChunks(lines, PART_BYTES)) {
      if (chunk.last && uploadId === undefined) {
        await send("PUT", "", chunk.bytes, { "content-type": "application/jsonl" });
        return;
      }
      if (uploadId === undefined) {
        const started = await (await send("POST", "?uploads", "", { "content-type": "application/jsonl" })).text();
        const id = UploadIdSchema.safeParse(xmlValue(started, "UploadId"));
        if (!id.success) throw invalidUpstream(target.providerName, "S3 started no multipart upload");
        uploadId = id.data;
      }
      if (chunk.bytes.byteLength === 0) continue;
      const response = await send("PUT", `?partNumber=${parts.length + 1}&uploadId=${encodeURIComponent(uploadId)}`, chunk.bytes);
      const etag = response.headers.get("etag");
      if (!etag) throw invalidUpstream(target.providerName, "S3 returned no ETag for an uploaded part");
      parts.push(etag);
    }
    const manifest = `<CompleteMultipartUpload>${parts.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag.replace(/[<>&]/g, "")}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
    const completed = await (await send("POST", `?uploadId=${encodeURIComponent(uploadId!)}`, manifest, { "content-type": "application/xml" })).text();
    // S3 may answer 200 and still report an error in the body.
    if (xmlValue(completed, "Code") !== undefined) throw invalidUpstream(target.providerName, `S3 did not complete the upload (${xmlValue(completed, "Code")})`);
  } catch (error) {
    if (uploadId !== undefined) await send("DELETE", `?uploadId=${encodeURIComponent(uploadId)}`, "").catch(() => undefined);
    throw error;
  }
}
