import * as z from "zod";
import type { ProviderConfig } from "../../config/schema";
import { linesOf } from "../../lib/jsonl";
import { fixedSizeChunks } from "../../lib/chunks";
import type { NativeLine, ProviderBatchApi, ProviderBatchState, ProviderLineOutcome } from "../batch";
import { invalidUpstream, jsonRequest } from "../http";
import type { UpstreamTarget } from "../types";
import { chatRequestToGemini, modelPath, parseGeminiChatResponse } from "./chat";
import { byteStream } from "../../lib/byte-stream";

/**
 * The Gemini API's Batch Mode: the translated requests are uploaded as a JSONL file through the Files API's
 * resumable protocol (8 MiB chunks, so no file is held whole), the batch is created with
 * `models/{model}:batchGenerateContent` on that file, followed through its operation's state, and its responses
 * file is downloaded and read line by line (`{key, response}` or `{key, error}`).
 */

type GeminiConfig = Extract<ProviderConfig, { type: "gemini" }>;

/** Google's resumable uploads take chunks in multiples of 256 KiB. */
export const UPLOAD_CHUNK_BYTES = 32 * 256 * 1024;

const headersOf = async (target: UpstreamTarget<GeminiConfig>) => ({ "x-goog-api-key": await target.secret(target.config.apiKey) });
const api = (target: UpstreamTarget<GeminiConfig>, path: string) => `${target.config.baseURL}/${target.config.apiVersion}/${path}`;

const UploadedFileSchema = z.object({ file: z.object({ name: z.string() }) });
const BatchSchema = z
  .object({
    state: z.string().optional(),
    output: z.object({ responsesFile: z.string().optional() }).loose().optional(),
    batchStats: z.object({ successfulRequestCount: z.coerce.number().optional(), failedRequestCount: z.coerce.number().optional() }).loose().optional(),
  })
  .loose();
const OperationSchema = z.object({
  name: z.string(),
  metadata: BatchSchema.optional(),
  done: z.boolean().optional(),
  error: z.object({ message: z.string().optional() }).loose().optional(),
  response: z.object({ responsesFile: z.string().optional() }).loose().optional(),
});
const ResultLineSchema = z.object({
  key: z.string(),
  response: z.unknown().optional(),
  error: z.object({ code: z.number().optional(), message: z.string().optional(), status: z.string().optional() }).loose().optional(),
});

const STATES: Record<string, ProviderBatchState["state"]> = {
  BATCH_STATE_PENDING: "running",
  BATCH_STATE_RUNNING: "running",
  BATCH_STATE_SUCCEEDED: "completed",
  BATCH_STATE_FAILED: "failed",
  BATCH_STATE_CANCELLED: "cancelled",
  BATCH_STATE_EXPIRED: "expired",
};

/** Google's RPC codes as HTTP statuses, for a failed line. */
const RPC_STATUS: Record<number, number> = { 3: 400, 5: 404, 7: 403, 8: 429, 9: 400, 13: 500, 14: 503, 16: 401 };

async function* geminiLines(target: UpstreamTarget<GeminiConfig>, lines: AsyncIterable<NativeLine>): AsyncGenerator<string> {
  for await (const { key, line } of lines) {
    if (line.kind !== "chat") throw new Error("Gemini batches run chat requests only");
    yield `${JSON.stringify({ key, request: chatRequestToGemini({ ...line.request, stream: false }, target.model) })}\n`;
  }
}

async function operation(target: UpstreamTarget<GeminiConfig>, response: Response) {
  const parsed = OperationSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw invalidUpstream(target.providerName, "unexpected batch operation");
  return parsed.data;
}

export const geminiBatchApi: ProviderBatchApi<GeminiConfig> = {
  kinds: ["chat"],
  async submit(target, call, _kind, lines, label) {
    const headers = await headersOf(target);
    const started = await call(
      jsonRequest(`${target.config.baseURL}/upload/${target.config.apiVersion}/files`, { ...headers, "x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start", "x-goog-upload-header-content-type": "application/jsonl" }, { file: { display_name: `${label}.jsonl` } }),
    );
    const uploadURL = started.headers.get("x-goog-upload-url");
    if (!uploadURL) throw invalidUpstream(target.providerName, "no upload URL for the batch file");
    let finished: Response | undefined;
    for await (const chunk of fixedSizeChunks(geminiLines(target, lines), UPLOAD_CHUNK_BYTES)) {
      finished = await call(
        new Request(uploadURL, { method: "POST", headers: { ...headers, "x-goog-upload-command": chunk.last ? "upload, finalize" : "upload", "x-goog-upload-offset": String(chunk.offset) }, body: chunk.bytes }),
      );
    }
    const file = UploadedFileSchema.safeParse(await finished!.json().catch(() => undefined));
    if (!file.success) throw invalidUpstream(target.providerName, "unexpected uploaded file");
    const created = await call(
      jsonRequest(api(target, `models/${modelPath(target.model)}:batchGenerateContent`), headers, { batch: { display_name: label, input_config: { file_name: file.data.file.name } } }),
    );
    return { batchName: (await operation(target, created)).name, fileName: file.data.file.name };
  },
  async status(target, call, ref) {
    const op = await operation(target, await call(new Request(api(target, ref.batchName!), { headers: await headersOf(target) })));
    const state = STATES[op.metadata?.state ?? ""] ?? (op.done ? (op.error ? "failed" : "completed") : "running");
    const stats = op.metadata?.batchStats;
    return {
      state,
      ...(stats?.successfulRequestCount !== undefined ? { completed: stats.successfulRequestCount } : {}),
      ...(stats?.failedRequestCount !== undefined ? { failed: stats.failedRequestCount } : {}),
      ...(op.error?.message ? { message: op.error.message } : {}),
    };
  },
  async *results(target, call, ref) {
    const headers = await headersOf(target);
    const op = await operation(target, await call(new Request(api(target, ref.batchName!), { headers })));
    const responsesFile = op.response?.responsesFile ?? op.metadata?.output?.responsesFile;
    if (!responsesFile) return;
    const download = await call(new Request(`${target.config.baseURL}/download/${target.config.apiVersion}/${responsesFile}:download?alt=media`, { headers }));
    if (!download.body) return;
    for await (const raw of linesOf(byteStream(download.body))) {
      if (raw.text.trim() === "") continue;
      let json: unknown;
      try {
        json = JSON.parse(raw.text);
      } catch {
        throw invalidUpstream(target.providerName, "a batch result line is not JSON");
      }
      const parsed = ResultLineSchema.safeParse(json);
      if (!parsed.success) throw invalidUpstream(target.providerName, "unexpected batch result line");
      const { key, response, error } = parsed.data;
      const outcome: ProviderLineOutcome = error
        ? { key, ok: false, status: RPC_STATUS[error.code ?? 13] ?? 500, error: { message: error.message ?? "the request failed", ...(error.status ? { code: error.status } : {}) } }
        : { key, ok: true, kind: "chat", result: parseGeminiChatResponse(response, target.providerName, target.model) };
      yield outcome;
    }
  },
  async cancel(target, call, ref) {
    await call(new Request(api(target, `${ref.batchName!}:cancel`), { method: "POST", headers: await headersOf(target) }));
  },
};
