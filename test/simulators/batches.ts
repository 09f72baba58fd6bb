import type { Fault } from "./scenarios";

/**
 * The batch side of the simulators, as the real services behave: OpenAI's (and Azure OpenAI's) Files and Batch
 * APIs, and Anthropic's Message Batches. State is in memory. A batch moves one step each time it is read
 * (validating → in_progress → completed), so a poller sees every status; `Fault.batch` scripts a failure, an
 * expiry or a batch that runs until cancelled. A request whose body contains "[fail]" fails on its own line.
 */

export type LineAnswer = { status: number; body: unknown };
/** Answers one request line as the provider's synchronous endpoint would. */
export type LineRunner = (url: string, body: Record<string, unknown>) => Promise<LineAnswer>;

const randomSuffix = () => Math.random().toString(36).slice(2, 12);
const now = () => Math.floor(Date.now() / 1000);

type StoredFile = { id: string; filename: string; purpose: string; content: string; createdAt: number };

type OpenAIBatch = {
  id: string;
  endpoint: string;
  inputFileId: string;
  status: string;
  outcome: Fault["batch"];
  createdAt: number;
  outputFileId: string | null;
  errorFileId: string | null;
  counts: { total: number; completed: number; failed: number };
  errors: { code: string; message: string; line: number | null }[] | null;
  metadata: unknown;
  key: string;
  stamps: Record<string, number>;
};

export class OpenAIBatchBook {
  readonly files = new Map<string, StoredFile>();
  readonly batches = new Map<string, OpenAIBatch>();
  /** Files still being imported (Azure imports an upload before it can be used; its status reads `pending` once). */
  readonly pending = new Set<string>();

  constructor(private readonly importsFiles = false) {}

  addFile(filename: string, purpose: string, content: string): StoredFile {
    const file = { id: `file-sim${randomSuffix()}`, filename, purpose, content, createdAt: now() };
    this.files.set(file.id, file);
    if (this.importsFiles) this.pending.add(file.id);
    return file;
  }

  fileObject(file: StoredFile) {
    const status = this.pending.has(file.id) ? "pending" : "processed";
    return { id: file.id, object: "file", bytes: new TextEncoder().encode(file.content).byteLength, created_at: file.createdAt, filename: file.filename, purpose: file.purpose, status, status_details: null };
  }

  create(body: { input_file_id?: string; endpoint?: string; completion_window?: string; metadata?: unknown }, fault: Fault | undefined, key: string): OpenAIBatch | string {
    const file = this.files.get(body.input_file_id ?? "");
    if (!file) return `No such File object: ${body.input_file_id}`;
    if (body.completion_window !== "24h") return "completion_window must be 24h";
    const lines = file.content.split("\n").filter((l) => l.trim() !== "");
    for (const [i, line] of lines.entries()) {
      const parsed = JSON.parse(line) as { url?: string };
      if (parsed.url !== body.endpoint) return `line ${i + 1}: url ${parsed.url} does not match the batch endpoint ${body.endpoint}`;
    }
    const batch: OpenAIBatch = {
      id: `batch_sim${randomSuffix()}`,
      endpoint: body.endpoint ?? "",
      inputFileId: file.id,
      status: "validating",
      outcome: fault?.batch,
      createdAt: now(),
      outputFileId: null,
      errorFileId: null,
      counts: { total: lines.length, completed: 0, failed: 0 },
      errors: null,
      metadata: body.metadata ?? null,
      key,
      stamps: {},
    };
    this.batches.set(batch.id, batch);
    return batch;
  }

  /** One step of progress, taken whenever the batch is read. */
  async advance(batch: OpenAIBatch, run: LineRunner): Promise<void> {
    const stamp = (status: string) => {
      batch.status = status;
      batch.stamps[status] = now();
    };
    switch (batch.status) {
      case "validating":
        if (batch.outcome === "fail") {
          batch.errors = [{ code: "invalid_request", message: `Batch rejected for the credentials ${batch.key}: quota exhausted for this organization.`, line: null }];
          return stamp("failed");
        }
        return stamp("in_progress");
      case "in_progress":
        if (batch.outcome === "hold") return;
        if (batch.outcome === "expire") {
          await this.#finish(batch, run, 1);
          return stamp("expired");
        }
        await this.#finish(batch, run);
        return stamp("completed");
      case "cancelling":
        await this.#finish(batch, run, 0);
        return stamp("cancelled");
    }
  }

  cancel(batch: OpenAIBatch): void {
    if (batch.status === "validating" || batch.status === "in_progress") {
      batch.status = "cancelling";
      batch.stamps.cancelling = now();
    }
  }

  /** Runs the lines (only the first `limit` when the batch stops early) and writes the output and error files. */
  async #finish(batch: OpenAIBatch, run: LineRunner, limit = Infinity): Promise<void> {
    const input = this.files.get(batch.inputFileId)!;
    const output: string[] = [];
    const errors: string[] = [];
    const lines = input.content.split("\n").filter((l) => l.trim() !== "");
    for (const [i, text] of lines.entries()) {
      const line = JSON.parse(text) as { custom_id: string; url: string; body: Record<string, unknown> };
      const id = `batch_req_sim${randomSuffix()}`;
      if (i >= limit) {
        const code = batch.status === "cancelling" ? "batch_cancelled" : "batch_expired";
        errors.push(JSON.stringify({ id, custom_id: line.custom_id, response: null, error: { code, message: "not executed" } }));
        batch.counts.failed++;
        continue;
      }
      const answer = JSON.stringify(line.body).includes("[fail]")
        ? { status: 400, body: { error: { message: "Simulated line failure: this request was refused.", type: "invalid_request_error", param: "messages", code: null } } }
        : await run(line.url, line.body);
      const entry = JSON.stringify({ id, custom_id: line.custom_id, response: { status_code: answer.status, request_id: `req_sim${randomSuffix()}`, body: answer.body }, error: null });
      if (answer.status === 200) {
        output.push(entry);
        batch.counts.completed++;
      } else {
        errors.push(entry);
        batch.counts.failed++;
      }
    }
    if (output.length > 0) batch.outputFileId = this.addFile(`${batch.id}_output.jsonl`, "batch_output", output.join("\n") + "\n").id;
    if (errors.length > 0) batch.errorFileId = this.addFile(`${batch.id}_error.jsonl`, "batch_output", errors.join("\n") + "\n").id;
  }

  batchObject(batch: OpenAIBatch) {
    const at = (status: string) => batch.stamps[status] ?? null;
    return {
      id: batch.id,
      object: "batch",
      endpoint: batch.endpoint,
      errors: batch.errors ? { object: "list", data: batch.errors.map((e) => ({ ...e, param: null })) } : null,
      input_file_id: batch.inputFileId,
      completion_window: "24h",
      status: batch.status,
      output_file_id: batch.outputFileId,
      error_file_id: batch.errorFileId,
      created_at: batch.createdAt,
      in_progress_at: at("in_progress"),
      expires_at: batch.createdAt + 86_400,
      finalizing_at: null,
      completed_at: at("completed"),
      failed_at: at("failed"),
      expired_at: at("expired"),
      cancelling_at: at("cancelling"),
      cancelled_at: at("cancelled"),
      request_counts: batch.counts,
      metadata: batch.metadata,
    };
  }
}

type MessageBatch = {
  id: string;
  requests: { custom_id: string; params: Record<string, unknown> }[];
  status: "in_progress" | "canceling" | "ended";
  outcome: Fault["batch"];
  createdAt: string;
  endedAt: string | null;
  cancelInitiatedAt: string | null;
  results: string[];
  counts: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
};

export class MessageBatchBook {
  readonly batches = new Map<string, MessageBatch>();

  create(body: { requests?: { custom_id?: string; params?: Record<string, unknown> }[] }, fault: Fault | undefined): MessageBatch | string {
    const requests = body.requests ?? [];
    if (requests.length === 0) return "requests: at least one request is required";
    const ids = new Set<string>();
    for (const [i, request] of requests.entries()) {
      if (!/^[a-zA-Z0-9_-]{1,64}$/.test(request.custom_id ?? "")) return `requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`;
      if (ids.has(request.custom_id!)) return `requests.${i}.custom_id: custom_id must be unique`;
      ids.add(request.custom_id!);
      if (typeof request.params?.max_tokens !== "number") return `requests.${i}.params.max_tokens: Field required`;
    }
    const batch: MessageBatch = {
      id: `msgbatch_sim${randomSuffix()}`,
      requests: requests as MessageBatch["requests"],
      status: "in_progress",
      outcome: fault?.batch,
      createdAt: new Date().toISOString(),
      endedAt: null,
      cancelInitiatedAt: null,
      results: [],
      counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    };
    this.batches.set(batch.id, batch);
    return batch;
  }

  async advance(batch: MessageBatch, run: LineRunner): Promise<void> {
    if (batch.status === "ended") return;
    if (batch.status === "in_progress" && batch.outcome === "hold") return;
    for (const request of batch.requests) {
      let result: unknown;
      if (batch.status === "canceling") {
        result = { type: "canceled" };
        batch.counts.canceled++;
      } else if (batch.outcome === "expire") {
        result = { type: "expired" };
        batch.counts.expired++;
      } else if (JSON.stringify(request.params).includes("[fail]")) {
        result = { type: "errored", error: { type: "error", error: { type: "invalid_request_error", message: "Simulated line failure: this request was refused." } } };
        batch.counts.errored++;
      } else {
        const answer = await run("/v1/messages", request.params);
        result = answer.status === 200 ? { type: "succeeded", message: answer.body } : { type: "errored", error: answer.body };
        if (answer.status === 200) batch.counts.succeeded++;
        else batch.counts.errored++;
      }
      batch.results.push(JSON.stringify({ custom_id: request.custom_id, result }));
    }
    batch.counts.processing = 0;
    batch.status = "ended";
    batch.endedAt = new Date().toISOString();
  }

  cancel(batch: MessageBatch): void {
    if (batch.status !== "in_progress") return;
    batch.status = "canceling";
    batch.cancelInitiatedAt = new Date().toISOString();
  }

  batchObject(batch: MessageBatch, origin: string) {
    return {
      id: batch.id,
      type: "message_batch",
      processing_status: batch.status,
      request_counts: batch.counts,
      ended_at: batch.endedAt,
      created_at: batch.createdAt,
      expires_at: new Date(Date.parse(batch.createdAt) + 86_400_000).toISOString(),
      cancel_initiated_at: batch.cancelInitiatedAt,
      archived_at: null,
      results_url: batch.status === "ended" ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
    };
  }
}
