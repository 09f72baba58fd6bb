import * as z from "zod";
import type { ProviderConfig } from "../../config/schema";
import { linesOf } from "../../lib/jsonl";
import type { BatchKind, NativeLine, ProviderBatchApi, ProviderCall, ProviderLineOutcome } from "../batch";
import { invalidUpstream, jsonRequest, readJson } from "../http";
import { uploadFile } from "./files";
import type { UpstreamTarget } from "../types";
import { chatRequestToOpenAI, parseOpenAIChatResponse } from "./chat";
import { embeddingsRequestToOpenAI, parseOpenAIEmbeddingsResponse } from "./embeddings";
import { parseOpenAIError } from "./errors";
import { byteStream } from "../../lib/byte-stream";

/**
 * OpenAI's Files and Batch APIs (also Azure OpenAI's, at its own URLs): the translated lines are uploaded as a
 * JSONL file (multipart, streamed as it is produced), a batch is created on it, and its output and error files
 * are read back line by line.
 */

export type OpenAIStyleBatchShape<C extends ProviderConfig> = {
  /** The URL of an API path (`/files`, `/batches/{id}`), query string included. */
  url(target: UpstreamTarget<C>, path: string): string;
  /** The `url` each line names, and the batch's `endpoint`. */
  lineURL(target: UpstreamTarget<C>, kind: BatchKind): string;
  headers(target: UpstreamTarget<C>): Promise<Record<string, string>>;
};

const BatchObjectSchema = z.object({
  id: z.string(),
  status: z.string(),
  output_file_id: z.string().nullish(),
  error_file_id: z.string().nullish(),
  request_counts: z.object({ completed: z.number(), failed: z.number() }).partial().nullish(),
  errors: z.object({ data: z.array(z.object({ message: z.string().nullish(), line: z.number().nullish() })).nullish() }).nullish(),
});
const ResultLineSchema = z.object({
  custom_id: z.string(),
  response: z.object({ status_code: z.number(), body: z.unknown() }).nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

const STATES: Record<string, "running" | "completed" | "failed" | "expired" | "cancelled"> = {
  validating: "running",
  in_progress: "running",
  finalizing: "running",
  cancelling: "running",
  completed: "completed",
  failed: "failed",
  expired: "expired",
  cancelled: "cancelled",
};

export function openAIStyleBatchApi<C extends ProviderConfig>(shape: OpenAIStyleBatchShape<C>): ProviderBatchApi<C> {
  async function* requestLines(target: UpstreamTarget<C>, kind: BatchKind, lines: AsyncIterable<NativeLine>): AsyncGenerator<string> {
    const url = shape.lineURL(target, kind);
    for await (const { key, line } of lines) {
      const body = line.kind === "chat" ? chatRequestToOpenAI({ ...line.request, stream: false }, target.model) : embeddingsRequestToOpenAI(line.request, target.model);
      yield `${JSON.stringify({ custom_id: key, method: "POST", url, body })}\n`;
    }
  }

  async function batchObject(target: UpstreamTarget<C>, call: ProviderCall, batchId: string) {
    const response = await call(new Request(shape.url(target, `/batches/${encodeURIComponent(batchId)}`), { headers: await shape.headers(target) }));
    return readJson(response, BatchObjectSchema, target.providerName, "batch object");
  }

  async function* resultsOf(target: UpstreamTarget<C>, call: ProviderCall, fileId: string, kind: BatchKind): AsyncGenerator<ProviderLineOutcome> {
    const response = await call(new Request(shape.url(target, `/files/${encodeURIComponent(fileId)}/content`), { headers: await shape.headers(target) }));
    if (!response.body) return;
    for await (const raw of linesOf(byteStream(response.body))) {
      if (raw.text.trim() === "") continue;
      let json: unknown;
      try {
        json = JSON.parse(raw.text);
      } catch {
        throw invalidUpstream(target.providerName, "a batch result line is not JSON");
      }
      const parsed = ResultLineSchema.safeParse(json);
      if (!parsed.success) throw invalidUpstream(target.providerName, "unexpected batch result line");
      const { custom_id: key, response: answer, error } = parsed.data;
      if (answer && answer.status_code >= 200 && answer.status_code < 300) {
        yield kind === "chat"
          ? { key, ok: true, kind, result: parseOpenAIChatResponse(answer.body, target.providerName) }
          : { key, ok: true, kind, result: parseOpenAIEmbeddingsResponse(answer.body, target.providerName) };
      } else if (answer) {
        yield { key, ok: false, status: answer.status_code, error: parseOpenAIError(answer.status_code, JSON.stringify(answer.body)) };
      } else {
        yield { key, ok: false, skipped: error?.code === "batch_cancelled" ? "cancelled" : "expired" };
      }
    }
  }

  return {
    kinds: ["chat", "embeddings"],
    async submit(target, call, kind, lines, label) {
      const file = await uploadFile(call, target.providerName, shape.url(target, "/files"), await shape.headers(target), requestLines(target, kind, lines), `${label}.jsonl`, "batch");
      const created = await call(
        jsonRequest(shape.url(target, "/batches"), await shape.headers(target), { input_file_id: file.id, endpoint: shape.lineURL(target, kind), completion_window: "24h", metadata: { switchyard_batch: label } }),
      );
      const batch = await readJson(created, BatchObjectSchema, target.providerName, "batch object");
      return { fileId: file.id, batchId: batch.id };
    },
    async status(target, call, ref) {
      const batch = await batchObject(target, call, ref.batchId!);
      const state = STATES[batch.status] ?? "running";
      const message = batch.errors?.data?.map((e) => (e.line ? `line ${e.line}: ${e.message ?? ""}` : (e.message ?? ""))).join("; ");
      return { state, ...(batch.request_counts?.completed !== undefined ? { completed: batch.request_counts.completed } : {}), ...(batch.request_counts?.failed !== undefined ? { failed: batch.request_counts.failed } : {}), ...(message ? { message } : {}) };
    },
    async *results(target, call, ref, kind) {
      const batch = await batchObject(target, call, ref.batchId!);
      for (const fileId of [batch.output_file_id, batch.error_file_id]) if (fileId) yield* resultsOf(target, call, fileId, kind);
    },
    async cancel(target, call, ref) {
      await call(new Request(shape.url(target, `/batches/${encodeURIComponent(ref.batchId!)}/cancel`), { method: "POST", headers: await shape.headers(target) }));
    },
  };
}

type OpenAIConfig = Extract<ProviderConfig, { type: "openai" }>;

export const openAIBatchApi = openAIStyleBatchApi<OpenAIConfig>({
  url: (target, path) => `${target.config.baseURL}${path}`,
  lineURL: (_target, kind) => (kind === "chat" ? "/v1/chat/completions" : "/v1/embeddings"),
  async headers(target) {
    const headers: Record<string, string> = { authorization: `Bearer ${await target.secret(target.config.apiKey)}` };
    if (target.config.organization) headers["openai-organization"] = target.config.organization;
    if (target.config.project) headers["openai-project"] = target.config.project;
    return headers;
  },
});
