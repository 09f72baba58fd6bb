import * as z from "zod";
import { GatewayError } from "../lib/errors";
import type { Line } from "../lib/jsonl";

/**
 * A batch input file: one request per line, `{custom_id, method, url, body}` as OpenAI's Batch API takes it.
 * Checked line by line while the file streams in (src/files/upload.ts); what depends on the workspace's routes
 * (models, endpoints per batch) is checked when a batch is created from it (src/batches/input.ts).
 */

export const BATCH_ENDPOINTS = ["/v1/chat/completions", "/v1/embeddings", "/v1/messages"] as const;
export const BatchEndpointSchema = z.enum(BATCH_ENDPOINTS);
export type BatchEndpoint = z.infer<typeof BatchEndpointSchema>;

/** OpenAI's limit per batch; Anthropic's (100,000) and Google's are higher, so this one holds for all. */
export const MAX_BATCH_LINES = 50_000;
/** custom_id is echoed into every result line; long ids only cost. Anthropic's own limit is 64. */
export const MAX_CUSTOM_ID_CHARS = 512;

export const BatchRequestLineSchema = z.strictObject({
  custom_id: z.string().min(1).max(MAX_CUSTOM_ID_CHARS),
  method: z.literal("POST"),
  url: BatchEndpointSchema,
  body: z.record(z.string(), z.unknown()),
});
export type BatchRequestLine = z.infer<typeof BatchRequestLineSchema>;

/** A 400 that names the line, in OpenAI's error shape. */
export const lineError = (line: number, message: string, code: string, param: string | null = null) =>
  new GatewayError({ status: 400, type: "invalid_request_error", code, param: param ?? `line ${line}`, message: `Line ${line} of the input file: ${message}` });

/** Parses one line as a request line; throws a GatewayError naming the line and the field. */
export function parseRequestLine(line: Line): BatchRequestLine {
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch {
    throw lineError(line.number, "not valid JSON (a batch file is JSONL: one JSON object per line).", "invalid_jsonl");
  }
  const parsed = BatchRequestLineSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === "unrecognized_keys" ? issue.keys[0]! : issue.path.map(String).join(".");
    const what = field === "" ? "not a request object {custom_id, method, url, body}" : `invalid "${field}": ${issue.message}`;
    throw lineError(line.number, `${what}.`, "invalid_batch_line", field || null);
  }
  return parsed.data;
}

/** Checks a batch file's lines as they arrive: each a request, custom_ids unique, within the line limit. */
export class BatchFileValidator {
  readonly #seen = new Map<string, number>();
  #count = 0;

  line(line: Line): BatchRequestLine | undefined {
    if (line.text.trim() === "") return undefined;
    const request = parseRequestLine(line);
    const first = this.#seen.get(request.custom_id);
    if (first !== undefined) throw lineError(line.number, `duplicate custom_id "${request.custom_id}" (first on line ${first}).`, "duplicate_custom_id", "custom_id");
    if (++this.#count > MAX_BATCH_LINES) throw lineError(line.number, `a batch holds at most ${MAX_BATCH_LINES} requests.`, "too_many_requests");
    this.#seen.set(request.custom_id, line.number);
    return request;
  }

  /** The number of requests; a file without any is refused. */
  finish(): number {
    if (this.#count === 0) throw new GatewayError({ status: 400, type: "invalid_request_error", code: "empty_file", param: "file", message: "The batch input file holds no requests." });
    return this.#count;
  }
}
