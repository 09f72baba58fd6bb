import * as z from "zod";
import type { ProviderConfig } from "../../config/schema";
import { linesOf } from "../../lib/jsonl";
import type { NativeLine, ProviderBatchApi, ProviderLineOutcome } from "../batch";
import { invalidUpstream } from "../http";
import type { UpstreamTarget } from "../types";
import { chatRequestToAnthropic, parseAnthropicChatResponse } from "./chat";
import { byteStream } from "../../lib/byte-stream";

/**
 * Anthropic's Message Batches API: the lines go inline as `{custom_id, params}` (the JSON body is produced as it
 * is sent), the batch is followed through `processing_status`, and its results (JSONL, one per custom_id:
 * succeeded / errored / canceled / expired) are read back and turned into internal results.
 */

type AnthropicConfig = Extract<ProviderConfig, { type: "anthropic" }>;

const MessageBatchSchema = z.object({
  id: z.string(),
  processing_status: z.string(),
  request_counts: z.object({ processing: z.number(), succeeded: z.number(), errored: z.number(), canceled: z.number(), expired: z.number() }).partial().nullish(),
  cancel_initiated_at: z.string().nullish(),
  results_url: z.string().nullish(),
});

const ResultLineSchema = z.object({
  custom_id: z.string(),
  result: z.discriminatedUnion("type", [
    z.object({ type: z.literal("succeeded"), message: z.unknown() }),
    z.object({ type: z.literal("errored"), error: z.object({ type: z.string().optional(), error: z.object({ type: z.string().optional(), message: z.string().optional() }).optional() }).loose() }),
    z.object({ type: z.literal("canceled") }),
    z.object({ type: z.literal("expired") }),
  ]),
});

const encoder = new TextEncoder();

/** Anthropic's per-request error types and the HTTP statuses they stand for. */
const ERROR_STATUS: Record<string, number> = { invalid_request_error: 400, authentication_error: 401, permission_error: 403, not_found_error: 404, request_too_large: 413, rate_limit_error: 429, api_error: 500, overloaded_error: 529 };

const headersOf = async (target: UpstreamTarget<AnthropicConfig>) => ({ "x-api-key": await target.secret(target.config.apiKey), "anthropic-version": target.config.version });

/** One line of the batch as Anthropic's Message Batches take it: `{custom_id, params}` with the provider's model. */
export function anthropicBatchRequest(line: NativeLine, model: string): { custom_id: string; params: Record<string, unknown> } {
  if (line.line.kind !== "chat") throw new Error("Anthropic batches run messages only");
  return { custom_id: line.key, params: chatRequestToAnthropic({ ...line.line.request, stream: false }, model) };
}

/** One line of Anthropic's results (`{custom_id, result}`) in the internal form. */
export function anthropicResultOutcome(json: unknown, providerName: string): ProviderLineOutcome {
  const parsed = ResultLineSchema.safeParse(json);
  if (!parsed.success) throw invalidUpstream(providerName, "unexpected batch result line");
  const { custom_id: key, result } = parsed.data;
  switch (result.type) {
    case "succeeded":
      return { key, ok: true, kind: "chat", result: parseAnthropicChatResponse(result.message, providerName) };
    case "errored": {
      const type = result.error.error?.type ?? result.error.type ?? "api_error";
      return { key, ok: false, status: ERROR_STATUS[type] ?? 500, error: { message: result.error.error?.message ?? "the request failed", type, code: type } };
    }
    case "canceled":
      return { key, ok: false, skipped: "cancelled" };
    case "expired":
      return { key, ok: false, skipped: "expired" };
  }
}

/** `{"requests":[…]}`, one request at a time. */
function requestsBody(target: UpstreamTarget<AnthropicConfig>, lines: AsyncIterable<NativeLine>): ReadableStream<Uint8Array> {
  const iterator = lines[Symbol.asyncIterator]();
  let count = 0;
  let closed = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (closed) return controller.close();
      const next = await iterator.next();
      if (next.done) {
        closed = true;
        controller.enqueue(encoder.encode(count === 0 ? '{"requests":[]}' : "]}"));
        return;
      }
      const item = JSON.stringify(anthropicBatchRequest(next.value, target.model));
      controller.enqueue(encoder.encode(`${count++ === 0 ? '{"requests":[' : ","}${item}`));
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

async function batchObject(target: UpstreamTarget<AnthropicConfig>, response: Response) {
  const parsed = MessageBatchSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw invalidUpstream(target.providerName, "unexpected message batch object");
  return parsed.data;
}

export const anthropicBatchApi: ProviderBatchApi<AnthropicConfig> = {
  kinds: ["chat"],
  async submit(target, call, _kind, lines) {
    const response = await call(
      new Request(`${target.config.baseURL}/v1/messages/batches`, { method: "POST", headers: { ...(await headersOf(target)), "content-type": "application/json" }, body: requestsBody(target, lines) }),
    );
    return { batchId: (await batchObject(target, response)).id };
  },
  async status(target, call, ref) {
    const batch = await batchObject(target, await call(new Request(`${target.config.baseURL}/v1/messages/batches/${encodeURIComponent(ref.batchId!)}`, { headers: await headersOf(target) })));
    const counts = batch.request_counts ?? {};
    const progress = { completed: counts.succeeded ?? 0, failed: counts.errored ?? 0 };
    if (batch.processing_status !== "ended") return { state: "running", ...progress };
    if (batch.cancel_initiated_at) return { state: "cancelled", ...progress };
    if ((counts.succeeded ?? 0) + (counts.errored ?? 0) === 0 && (counts.expired ?? 0) > 0) return { state: "expired", ...progress };
    return { state: "completed", ...progress };
  },
  async *results(target, call, ref) {
    const url = `${target.config.baseURL}/v1/messages/batches/${encodeURIComponent(ref.batchId!)}/results`;
    const response = await call(new Request(url, { headers: await headersOf(target) }));
    if (!response.body) return;
    for await (const raw of linesOf(byteStream(response.body))) {
      if (raw.text.trim() === "") continue;
      let json: unknown;
      try {
        json = JSON.parse(raw.text);
      } catch {
        throw invalidUpstream(target.providerName, "a batch result line is not JSON");
      }
      const outcome = anthropicResultOutcome(json, target.providerName);
      yield outcome;
    }
  },
  async cancel(target, call, ref) {
    await call(new Request(`${target.config.baseURL}/v1/messages/batches/${encodeURIComponent(ref.batchId!)}/cancel`, { method: "POST", headers: await headersOf(target) }));
  },
};
