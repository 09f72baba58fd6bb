import { Hono } from "hono";
import { verifySignature } from "./bedrock";
import type { SimulatorContext } from "./openai";

/**
 * An Amazon S3 simulator (path-style: /{bucket}/{key}): PutObject and the multipart upload (CreateMultipartUpload,
 * UploadPart, CompleteMultipartUpload, AbortMultipartUpload), GetObject. Every request must carry a valid SigV4
 * signature for service `s3`, and a body must match the x-amz-content-sha256 it was signed with, as S3 checks.
 * Errors are S3's XML. Objects are shared with the Bedrock simulator, whose customization jobs read them.
 */

/** `bucket/key` → content. */
export const S3_OBJECTS = new Map<string, string>();

const s3Error = (status: number, message: string, code: string) =>
  new Response(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>SIM${crypto.randomUUID().slice(0, 8)}</RequestId></Error>`, {
    status,
    headers: { "content-type": "application/xml" },
  });

const sha256Hex = async (text: string) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, "0")).join("");

type Upload = { key: string; parts: Map<number, { etag: string; content: string }> };

export function s3Simulator() {
  const uploads = new Map<string, Upload>();
  const app = new Hono<{ Bindings: SimulatorContext }>();
  app.use("*", async (c, next) => {
    const body = await c.req.raw.clone().text();
    const failure = await verifySignature(c.req.raw, c.env.originalUrl, body, "s3", (status, message, type) => s3Error(status, message, type === "UnrecognizedClientException" ? "InvalidAccessKeyId" : type));
    if (failure) return failure;
    const declared = c.req.header("x-amz-content-sha256");
    if (!declared) return s3Error(400, "Missing required header for this request: x-amz-content-sha256", "InvalidRequest");
    if (declared !== "UNSIGNED-PAYLOAD" && declared !== (await sha256Hex(body))) return s3Error(400, "The provided 'x-amz-content-sha256' header does not match what was computed.", "XAmzContentSHA256Mismatch");
    const fault = c.env.fault;
    if (fault?.status) return s3Error(fault.status, fault.message ?? "Simulated error", fault.status === 403 ? "AccessDenied" : "InternalError");
    await next();
  });

  const keyOf = (path: string) => decodeURIComponent(path.split("/").slice(1).join("/"));

  app.put("/*", async (c) => {
    const key = keyOf(c.req.path);
    const uploadId = c.req.query("uploadId");
    const body = await c.req.text();
    if (uploadId === undefined) {
      S3_OBJECTS.set(key, body);
      return c.body(null, 200, { etag: `"${(await sha256Hex(body)).slice(0, 32)}"` });
    }
    const upload = uploads.get(uploadId);
    if (!upload || upload.key !== key) return s3Error(404, "The specified upload does not exist.", "NoSuchUpload");
    const etag = `"${(await sha256Hex(body)).slice(0, 32)}"`;
    upload.parts.set(Number(c.req.query("partNumber")), { etag, content: body });
    return c.body(null, 200, { etag });
  });

  app.post("/*", async (c) => {
    const key = keyOf(c.req.path);
    const [bucket] = key.split("/");
    if (c.req.query("uploads") !== undefined) {
      const id = crypto.randomUUID().replace(/-/g, "");
      uploads.set(id, { key, parts: new Map() });
      return c.body(`<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><Key>${key.slice(bucket!.length + 1)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`, 200, { "content-type": "application/xml" });
    }
    const upload = uploads.get(c.req.query("uploadId") ?? "");
    if (!upload || upload.key !== key) return s3Error(404, "The specified upload does not exist.", "NoSuchUpload");
    const listed = [...(await c.req.text()).matchAll(/<Part><PartNumber>(\d+)<\/PartNumber><ETag>([^<]*)<\/ETag><\/Part>/g)].map((m) => ({ number: Number(m[1]), etag: m[2] }));
    let content = "";
    for (const [index, part] of listed.entries()) {
      const stored = upload.parts.get(part.number);
      if (!stored || stored.etag !== part.etag || part.number !== index + 1) return s3Error(400, "One or more of the specified parts could not be found.", "InvalidPart");
      content += stored.content;
    }
    S3_OBJECTS.set(key, content);
    uploads.delete(c.req.query("uploadId")!);
    return c.body(`<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key></CompleteMultipartUploadResult>`, 200, { "content-type": "application/xml" });
  });

  app.delete("/*", (c) => {
    uploads.delete(c.req.query("uploadId") ?? "");
    return c.body(null, 204);
  });

  app.get("/*", (c) => {
    const content = S3_OBJECTS.get(keyOf(c.req.path));
    return content === undefined ? s3Error(404, "The specified key does not exist.", "NoSuchKey") : c.body(content, 200, { "content-type": "application/octet-stream" });
  });
  return app;
}
