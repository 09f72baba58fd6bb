import * as Multipasta from "multipasta";
import { GatewayError, badRequest } from "../lib/errors";
import { BatchFileValidator } from "./batch-lines";
import { LineSplitter, LineTooLongError, NotUtf8Error } from "../lib/jsonl";
import { R2StreamWriter } from "./r2-writer";
import { UPLOAD_PURPOSES, type FileRecord } from "./schema";
import { fileObjectKey, insertFileRecord, newFileId } from "./store";
import { byteStream } from "../lib/byte-stream";

/**
 * POST /v1/files: a multipart/form-data upload (`purpose`, `file`) streamed into R2 as it arrives. The multipart
 * framing is parsed by multipasta, which hands over file bytes chunk by chunk (the parsers that give a part as one
 * buffer would hold a 512 MB file in a 128 MB isolate). A `batch` file is checked line by line on the way
 * (JSONL, request lines, unique custom_ids); the record is written only once the content is stored and
 * checked, so a refused upload leaves nothing behind.
 */

/** Multipart headers, boundaries and small fields on top of the file itself. */
const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_PARTS = 16;
const MAX_FILENAME_CHARS = 1024;

const isUploadPurpose = (value: string): value is (typeof UPLOAD_PURPOSES)[number] => (UPLOAD_PURPOSES as readonly string[]).includes(value);

const tooLarge = (maxBytes: number) =>
  new GatewayError({ status: 400, type: "invalid_request_error", code: "file_too_large", param: "file", message: `The file is larger than this workspace's limit of ${maxBytes} bytes (files.maxBytes).` });

const malformed = (detail: string) => badRequest(`The multipart/form-data body is malformed (${detail}).`, null, "invalid_multipart");

function multipartFailure(error: Multipasta.MultipartError, maxBytes: number): GatewayError {
  switch (error._tag) {
    case "InvalidBoundary":
      return malformed("no boundary in the Content-Type header");
    case "ReachedLimit":
      return error.limit === "MaxPartSize" || error.limit === "MaxTotalSize" ? tooLarge(maxBytes) : malformed(`too many or too large fields (${error.limit})`);
    case "EndNotReached":
      return malformed("the body ended before its closing boundary");
    default:
      return malformed(error._tag);
  }
}

type Event = { kind: "field"; name: string; value: string } | { kind: "file"; filename: string } | { kind: "chunk"; bytes: Uint8Array } | { kind: "end" };

/** The batch checks run while the purpose may still be `batch` (the SDKs send `file` before `purpose`). */
class SpeculativeBatchCheck {
  readonly #splitter = new LineSplitter();
  readonly #validator = new BatchFileValidator();
  failure: GatewayError | undefined;

  feed(bytes: Uint8Array | "end"): void {
    if (this.failure) return;
    try {
      for (const line of bytes === "end" ? this.#splitter.end() : this.#splitter.push(bytes)) this.#validator.line(line);
    } catch (error) {
      this.failure = asLineFailure(error);
    }
  }

  finish(): number {
    if (this.failure) throw this.failure;
    return this.#validator.finish();
  }
}

function asLineFailure(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof LineTooLongError || error instanceof NotUtf8Error) {
    return badRequest(`Line ${error.lineNumber} of the input file: ${error.message.replace(/^line \d+ /, "")} (a batch file is JSONL).`, `line ${error.lineNumber}`, "invalid_jsonl");
  }
  throw error;
}

export async function receiveUpload(env: Env, workspaceId: string, request: Request, maxBytes: number): Promise<FileRecord> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new GatewayError({ status: 415, type: "invalid_request_error", code: "unsupported_media_type", message: "Upload files as multipart/form-data with the fields `purpose` and `file`." });
  }
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD_BYTES) throw tooLarge(maxBytes);
  if (!request.body) throw malformed("empty body");

  const id = newFileId();
  const writer = new R2StreamWriter(env.FILES, fileObjectKey(workspaceId, id), { httpMetadata: { contentType: "application/octet-stream" } });
  const events: Event[] = [];
  let parseError: Multipasta.MultipartError | undefined;
  const parser = Multipasta.make({
    headers: { "content-type": contentType },
    isFile: (info) => info.name === "file",
    maxParts: MAX_PARTS,
    maxFieldSize: MAX_FIELD_BYTES,
    maxPartSize: maxBytes + MAX_FIELD_BYTES,
    onField: (info, value) => events.push({ kind: "field", name: info.name, value: Multipasta.decodeField(info, value) }),
    onFile: (info) => {
      events.push({ kind: "file", filename: (info.filename ?? "file").slice(0, MAX_FILENAME_CHARS) });
      // The parser may hand out views of its own buffers: each chunk is copied before it is awaited on.
      return (chunk) => events.push(chunk === null ? { kind: "end" } : { kind: "chunk", bytes: chunk.slice() });
    },
    onError: (error) => (parseError ??= error),
    onDone: () => undefined,
  });

  let purpose: string | undefined;
  let filename: string | undefined;
  let fileEnded = false;
  let batchCheck: SpeculativeBatchCheck | undefined = new SpeculativeBatchCheck();
  const reader = byteStream(request.body).getReader();

  const drain = async () => {
    for (const event of events.splice(0)) {
      switch (event.kind) {
        case "field":
          if (event.name === "purpose") {
            purpose = event.value;
            if (purpose !== "batch") batchCheck = undefined;
          }
          break;
        case "file":
          if (filename !== undefined) throw badRequest("Send exactly one `file` field.", "file", "invalid_multipart");
          filename = event.filename;
          break;
        case "chunk":
          await writer.write(event.bytes);
          if (writer.bytes > maxBytes) throw tooLarge(maxBytes);
          batchCheck?.feed(event.bytes);
          break;
        case "end":
          fileEnded = true;
          batchCheck?.feed("end");
          break;
      }
      // A known batch file stops at its first bad line rather than storing the rest.
      if (purpose === "batch" && batchCheck?.failure) throw batchCheck.failure;
    }
    if (parseError) throw multipartFailure(parseError, maxBytes);
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) parser.end();
      else parser.write(value);
      await drain();
      if (done) break;
    }
    if (purpose === undefined) throw badRequest("Missing required parameter: 'purpose'.", "purpose", "missing_required_parameter");
    if (!isUploadPurpose(purpose)) throw badRequest(`Invalid value for 'purpose': "${purpose}"; use one of ${UPLOAD_PURPOSES.join(", ")}.`, "purpose", "invalid_value");
    if (filename === undefined || !fileEnded) throw badRequest("Missing required parameter: 'file'.", "file", "missing_required_parameter");
    if (purpose === "batch" && !batchCheck) throw badRequest("Send the `purpose` field once.", "purpose", "invalid_multipart");
    const lineCount = purpose === "batch" ? batchCheck.finish() : null;
    const bytes = await writer.close();
    const record: FileRecord = { id, workspaceId, filename, purpose, bytes, createdAt: Math.floor(Date.now() / 1000), lineCount };
    try {
      await insertFileRecord(env.USAGE_DB, record);
    } catch (error) {
      await env.FILES.delete(fileObjectKey(workspaceId, id));
      throw error;
    }
    return record;
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    await writer.abort();
    throw error;
  }
}
