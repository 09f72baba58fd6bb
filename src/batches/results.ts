import type { GatewayConfig } from "../config/schema";
import { R2StreamWriter } from "../files/r2-writer";
import type { FileRecord } from "../files/schema";
import { fileObjectKey, insertFileRecord } from "../files/store";
import type { Usage } from "../schema/internal";
import { batchLineUsageEvent, type UsageEvent } from "../usage/event";
import { sendUsageEvents } from "../usage/sender";
import type { BatchRecord, BatchUsage } from "./schema";

/**
 * A batch's results as OpenAI's Batch API gives them: an output file (answered lines) and an error file (lines
 * that failed or never ran), one line per custom_id, written to R2 as results stream in; nothing but a bit per
 * line is held. Every line is also a usage event tied to the batch: written here for lines a provider's batch
 * answered and for lines that never ran (`lineEvents: "every line"`), or only for the latter when the lines ran
 * through the gateway's own pipeline, which sent their events itself (`"unprocessed only"`). The file ids derive
 * from the batch id, so a driver that dies mid-way and writes again replaces the same files, and the usage
 * events (keyed `<batch>:<line>`) are written once.
 */

export type LineOutcome =
  | { index: number; ok: true; body: unknown; usage: Usage }
  | { index: number; ok: false; status: number; body: unknown; errorType: string };

/** Why a line never ran, as OpenAI's error file says it. */
export type UnprocessedReason = "batch_cancelled" | "batch_expired" | "batch_failed";
const UNPROCESSED_MESSAGE: Record<UnprocessedReason, string> = {
  batch_cancelled: "This request was not executed because the batch was cancelled.",
  batch_expired: "This request could not be executed before the completion window expired.",
  batch_failed: "This request was not executed because the batch failed.",
};

const USAGE_EVENTS_PER_SEND = 100;

export const outputFileIdOf = (batchId: string) => `file-${batchId.replace(/^batch_/, "")}-output`;
export const errorFileIdOf = (batchId: string) => `file-${batchId.replace(/^batch_/, "")}-errors`;

class ResultFile {
  readonly #writer: R2StreamWriter;
  lines = 0;
  constructor(
    readonly env: Env,
    readonly workspaceId: string,
    readonly id: string,
    readonly filename: string,
  ) {
    this.#writer = new R2StreamWriter(env.FILES, fileObjectKey(workspaceId, id), { httpMetadata: { contentType: "application/octet-stream" } });
  }

  async append(line: unknown): Promise<void> {
    this.lines++;
    await this.#writer.writeText(`${JSON.stringify(line)}\n`);
  }

  async close(): Promise<string> {
    const bytes = await this.#writer.close();
    const record: FileRecord = { id: this.id, workspaceId: this.workspaceId, filename: this.filename, purpose: "batch_output", bytes, createdAt: Math.floor(Date.now() / 1000), lineCount: null };
    await this.env.USAGE_DB.prepare("DELETE FROM files WHERE workspace_id = ? AND id = ?").bind(this.workspaceId, this.id).run();
    await insertFileRecord(this.env.USAGE_DB, record);
    return this.id;
  }
}

export type ResultsSummary = { outputFileId: string | null; errorFileId: string | null; completed: number; failed: number; unprocessed: number; usage: BatchUsage };

export type ResultsOptions = { total: number; lineEvents: "every line" | "unprocessed only" };

export class BatchResults {
  readonly #env: Env;
  readonly #batch: BatchRecord;
  readonly #config: GatewayConfig;
  readonly #options: ResultsOptions;
  readonly #seen: Uint8Array;
  #output: ResultFile | undefined;
  #errors: ResultFile | undefined;
  #events: UsageEvent[] = [];
  #completed = 0;
  #failed = 0;
  #unprocessed = 0;
  readonly #usage: BatchUsage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0, reasoningTokens: 0 };

  constructor(env: Env, batch: BatchRecord, config: GatewayConfig, options: ResultsOptions) {
    this.#env = env;
    this.#batch = batch;
    this.#config = config;
    this.#options = options;
    this.#seen = new Uint8Array(options.total);
  }

  #lineId(index: number): string {
    return `batch_req_${this.#batch.id.replace(/^batch_/, "")}_${index}`;
  }

  async #event(index: number, usage: Usage | null, status: number, errorType: string | null): Promise<void> {
    const batch = this.#batch;
    this.#events.push(
      batchLineUsageEvent(this.#config, {
        batchId: batch.id,
        index,
        workspaceId: batch.workspaceId,
        keyId: batch.keyId,
        route: batch.route,
        operation: batch.endpoint === "/v1/embeddings" ? "embeddings" : "chat",
        provider: batch.provider ?? "(none)",
        model: batch.model ?? "(none)",
        usage,
        status,
        errorType,
        time: batch.createdAt * 1000,
      }),
    );
    if (this.#events.length >= USAGE_EVENTS_PER_SEND) await this.#flushEvents();
  }

  async #flushEvents(): Promise<void> {
    const events = this.#events;
    this.#events = [];
    await sendUsageEvents(this.#env.USAGE_QUEUE, events);
  }

  #output_(): ResultFile {
    return (this.#output ??= new ResultFile(this.#env, this.#batch.workspaceId, outputFileIdOf(this.#batch.id), `${this.#batch.id}_output.jsonl`));
  }

  #errors_(): ResultFile {
    return (this.#errors ??= new ResultFile(this.#env, this.#batch.workspaceId, errorFileIdOf(this.#batch.id), `${this.#batch.id}_error.jsonl`));
  }

  /** Whether line `index` has a result already. */
  has(index: number): boolean {
    return this.#seen[index] === 1;
  }

  /** Marks a line as written; false for an index out of range or written before (a provider repeating itself). */
  #take(index: number): boolean {
    if (index < 0 || index >= this.#seen.length || this.#seen[index]) return false;
    this.#seen[index] = 1;
    return true;
  }

  /** Records one line's result. */
  async add(outcome: LineOutcome, customId: string): Promise<void> {
    if (!this.#take(outcome.index)) return;
    const requestId = `${this.#batch.id}:${outcome.index}`;
    const events = this.#options.lineEvents === "every line";
    if (outcome.ok) {
      this.#completed++;
      this.#usage.inputTokens += outcome.usage.promptTokens;
      this.#usage.outputTokens += outcome.usage.completionTokens;
      this.#usage.cachedTokens += outcome.usage.cachedTokens;
      this.#usage.reasoningTokens += outcome.usage.reasoningTokens;
      await this.#output_().append({ id: this.#lineId(outcome.index), custom_id: customId, response: { status_code: 200, request_id: requestId, body: outcome.body }, error: null });
      if (events) await this.#event(outcome.index, outcome.usage, 200, null);
    } else {
      this.#failed++;
      await this.#errors_().append({ id: this.#lineId(outcome.index), custom_id: customId, response: { status_code: outcome.status, request_id: requestId, body: outcome.body }, error: null });
      if (events) await this.#event(outcome.index, null, outcome.status, outcome.errorType);
    }
  }

  /** Records a line that never ran, as `reason`. */
  async unprocessed(index: number, customId: string, reason: UnprocessedReason): Promise<void> {
    if (!this.#take(index)) return;
    this.#unprocessed++;
    this.#failed++;
    await this.#errors_().append({ id: this.#lineId(index), custom_id: customId, response: null, error: { code: reason, message: UNPROCESSED_MESSAGE[reason] } });
    await this.#event(index, null, 0, reason);
  }

  /** Closes both files and flushes the usage events. */
  async close(): Promise<ResultsSummary> {
    const outputFileId = this.#output ? await this.#output.close() : null;
    const errorFileId = this.#errors ? await this.#errors.close() : null;
    await this.#flushEvents();
    return { outputFileId, errorFileId, completed: this.#completed, failed: this.#failed, unprocessed: this.#unprocessed, usage: this.#usage };
  }
}
