import * as z from "zod";
import { linesOf } from "../../lib/jsonl";
import type { NativeLine, ProviderBatchApi, ProviderBatchState, ProviderCall, ProviderLineOutcome } from "../batch";
import { chatRequestToGemini, parseGeminiChatResponse } from "../gemini/chat";
import { invalidUpstream, jsonRequest } from "../http";
import type { UpstreamTarget } from "../types";
import { vertexAuthorization } from "./auth";
import { originOf, type VertexConfig } from "./chat";
import { uploadLines } from "./storage";
import { byteStream } from "../../lib/byte-stream";

/**
 * Vertex AI batch prediction for Gemini models: the translated requests are written to the provider's
 * `batchBucket` in Cloud Storage (resumable upload, 8 MiB chunks), a batchPredictionJob reads them and writes
 * predictions.jsonl files under an output prefix, which are listed and read back. Vertex echoes each line's
 * `request` (not a key), so the line's key rides in the request's `labels`.
 */

const KEY_LABEL = "switchyard_key";

const JobSchema = z
  .object({
    name: z.string(),
    state: z.string().optional(),
    error: z.object({ message: z.string().optional() }).loose().optional(),
    completionStats: z.object({ successfulCount: z.coerce.number().optional(), failedCount: z.coerce.number().optional() }).loose().optional(),
    outputInfo: z.object({ gcsOutputDirectory: z.string().optional() }).loose().optional(),
  })
  .loose();
const ObjectListSchema = z.object({ items: z.array(z.object({ name: z.string() })).optional(), nextPageToken: z.string().optional() });
const PredictionSchema = z.object({ status: z.string().optional(), request: z.object({ labels: z.record(z.string(), z.string()).optional() }).loose(), response: z.unknown().optional() });

const STATES: Record<string, ProviderBatchState["state"]> = {
  JOB_STATE_SUCCEEDED: "completed",
  JOB_STATE_PARTIALLY_SUCCEEDED: "completed",
  JOB_STATE_FAILED: "failed",
  JOB_STATE_CANCELLED: "cancelled",
  JOB_STATE_EXPIRED: "expired",
};

const jobsURL = (target: UpstreamTarget<VertexConfig>) =>
  `${originOf(target.config)}/v1/projects/${encodeURIComponent(target.config.project)}/locations/${encodeURIComponent(target.config.location)}/batchPredictionJobs`;
const objectPath = (name: string) => name.split("/").map(encodeURIComponent).join("%2F");

async function* vertexLines(target: UpstreamTarget<VertexConfig>, lines: AsyncIterable<NativeLine>): AsyncGenerator<string> {
  for await (const { key, line } of lines) {
    if (line.kind !== "chat") throw new Error("Vertex AI batches run chat requests only");
    yield `${JSON.stringify({ request: { ...chatRequestToGemini({ ...line.request, stream: false }, target.model), labels: { [KEY_LABEL]: key } } })}\n`;
  }
}

async function job(target: UpstreamTarget<VertexConfig>, call: ProviderCall, name: string) {
  const response = await call(new Request(`${originOf(target.config)}/v1/${name}`, { headers: await vertexAuthorization(target) }));
  const parsed = JobSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw invalidUpstream(target.providerName, "unexpected batch prediction job");
  return parsed.data;
}

export const vertexBatchApi: ProviderBatchApi<VertexConfig> = {
  kinds: ["chat"],
  unsupported(config, model) {
    if (!config.batchBucket) return 'set the provider\'s "batchBucket" (a Cloud Storage bucket for batch input and output).';
    if (model.startsWith("claude-")) return "Claude models on Vertex AI are not relayed natively yet; run them in gateway mode.";
    return undefined;
  },
  async submit(target, call, _kind, lines, label) {
    const bucket = target.config.batchBucket!;
    const input = `switchyard/${label}/input.jsonl`;
    await uploadLines(target, call, bucket, input, vertexLines(target, lines));
    const created = await call(
      jsonRequest(jobsURL(target), await vertexAuthorization(target), {
        displayName: label,
        model: `publishers/google/models/${target.model}`,
        inputConfig: { instancesFormat: "jsonl", gcsSource: { uris: [`gs://${bucket}/${input}`] } },
        outputConfig: { predictionsFormat: "jsonl", gcsDestination: { outputUriPrefix: `gs://${bucket}/switchyard/${label}/output` } },
      }),
    );
    const parsed = JobSchema.safeParse(await created.json().catch(() => undefined));
    if (!parsed.success) throw invalidUpstream(target.providerName, "unexpected batch prediction job");
    return { jobName: parsed.data.name, input };
  },
  async status(target, call, ref) {
    const current = await job(target, call, ref.jobName!);
    const stats = current.completionStats;
    return {
      state: STATES[current.state ?? ""] ?? "running",
      ...(stats?.successfulCount !== undefined ? { completed: stats.successfulCount } : {}),
      ...(stats?.failedCount !== undefined ? { failed: stats.failedCount } : {}),
      ...(current.error?.message ? { message: current.error.message } : {}),
    };
  },
  async *results(target, call, ref) {
    const directory = (await job(target, call, ref.jobName!)).outputInfo?.gcsOutputDirectory;
    const match = directory ? /^gs:\/\/([^/]+)\/(.+)$/.exec(directory) : null;
    if (!match) return;
    const [, bucket, prefix] = match as unknown as [string, string, string];
    const auth = await vertexAuthorization(target);
    const storage = target.config.storageURL;
    let pageToken: string | undefined;
    do {
      const listing = await call(new Request(`${storage}/storage/v1/b/${encodeURIComponent(bucket)}/o?prefix=${encodeURIComponent(`${prefix}/`)}${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ""}`, { headers: auth }));
      const page = ObjectListSchema.safeParse(await listing.json().catch(() => undefined));
      if (!page.success) throw invalidUpstream(target.providerName, "unexpected object listing");
      for (const item of page.data.items ?? []) {
        if (!item.name.endsWith(".jsonl")) continue;
        const object = await call(new Request(`${storage}/storage/v1/b/${encodeURIComponent(bucket)}/o/${objectPath(item.name)}?alt=media`, { headers: auth }));
        if (!object.body) continue;
        for await (const raw of linesOf(byteStream(object.body))) {
          if (raw.text.trim() === "") continue;
          let json: unknown;
          try {
            json = JSON.parse(raw.text);
          } catch {
            throw invalidUpstream(target.providerName, "a prediction line is not JSON");
          }
          const parsed = PredictionSchema.safeParse(json);
          const key = parsed.success ? parsed.data.request.labels?.[KEY_LABEL] : undefined;
          if (!parsed.success || !key) continue;
          const outcome: ProviderLineOutcome = parsed.data.status
            ? { key, ok: false, status: 400, error: { message: parsed.data.status } }
            : { key, ok: true, kind: "chat", result: parseGeminiChatResponse(parsed.data.response, target.providerName, target.model) };
          yield outcome;
        }
      }
      pageToken = page.data.nextPageToken;
    } while (pageToken);
  },
  async cancel(target, call, ref) {
    await call(new Request(`${originOf(target.config)}/v1/${ref.jobName!}:cancel`, { method: "POST", headers: await vertexAuthorization(target) }));
  },
};
