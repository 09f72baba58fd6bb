import { byteStream } from "../lib/byte-stream";
import { lineSpansOf, linesOf } from "../lib/jsonl";
import { parseRequestLine } from "../files/batch-lines";
import { fileObjectKey, openFileContent, requireFile } from "../files/store";
import { emptyUsage } from "../schema/internal";
import type { LineBook, LineResult, LineSpanRef, StopReason } from "./line-book";
import { lineMessageOf, sendLineMessages } from "./line-messages";
import { BatchResults, type LineOutcome } from "./results";
import type { BatchRunner, RunnerContext, RunnerStep } from "./runner";
import type { BatchStatus } from "./schema";
import { transition, updateBatch } from "./store";

/**
 * The gateway runner: the gateway runs a batch's lines itself, each through the normal pipeline of its route
 * (routing, retries, fallbacks, cache, coalescing, guardrails, limits, usage), for any provider. The driver hands
 * out a window of lines as Queue messages (a cursor into the input file, by byte offset) and tops it up as lines
 * are answered; the Queue's consumer runs them (src/batches/line-consumer.ts) at background priority and records
 * each result once in the driver's line book (src/batches/line-book.ts). When every line is answered — or the
 * batch is cancelled or expires and its running lines have finished — the results are streamed from the line
 * book into OpenAI's output and error files in line order.
 */

/** Lines of one batch in the queue or running at a time: bounds the queue, and lets batches share it fairly. */
export const DISPATCH_WINDOW = 400;
/** The window is topped up once this few lines are left in it. */
export const REFILL_AT = 200;
/** While lines run, progress counts are written and lost messages looked for this often. */
export const PROGRESS_POLL_MS = 2_000;
/** Results read from the line book per page while finalising. */
const RESULTS_PAGE = 100;
const RESEND_PER_POLL = DISPATCH_WINDOW;

/** Hands out lines from the cursor until the window is full: rows first, then the messages, then marked sent. */
async function dispatch(context: RunnerContext, lines: LineBook): Promise<void> {
  const { env, batch } = context;
  const cursor = lines.cursor();
  const room = DISPATCH_WINDOW - lines.inFlight();
  if (cursor.exhausted || room < DISPATCH_WINDOW - REFILL_AT) return;
  const object = await env.FILES.get(fileObjectKey(batch.workspaceId, batch.inputFileId), { range: { offset: cursor.offset } });
  if (!object) throw new Error(`the input file ${batch.inputFileId} of batch ${batch.id} is missing from storage`);
  const taken: LineSpanRef[] = [];
  let { offset, index } = cursor;
  for await (const span of lineSpansOf(byteStream(object.body), cursor.offset)) {
    offset = span.offset + span.length + 1;
    if (span.blank) continue;
    taken.push({ index: index++, offset: span.offset, length: span.length });
    if (taken.length >= room || index >= batch.total) break;
  }
  const exhausted = index >= batch.total || taken.length < room;
  lines.addDispatched(taken, { offset, index, exhausted });
  await sendLineMessages(env.BATCH_QUEUE, taken.map((line) => lineMessageOf(batch, line)));
  lines.markSent(taken.map((line) => line.index), Date.now());
}

/** Sends again the messages of lines that went quiet (src/batches/line-book.ts `toResend`). */
async function resendQuiet(context: RunnerContext, lines: LineBook): Promise<void> {
  const quiet = lines.toResend(Date.now(), RESEND_PER_POLL);
  if (quiet.length === 0) return;
  console.warn(JSON.stringify({ level: "warn", message: "batch lines sent again", batchId: context.batch.id, lines: quiet.length }));
  await sendLineMessages(context.env.BATCH_QUEUE, quiet.map((line) => lineMessageOf(context.batch, line)));
  lines.markSent(quiet.map((line) => line.index), Date.now());
}

async function saveProgress(context: RunnerContext, lines: LineBook): Promise<void> {
  const { done, answered } = lines.counts();
  const { batch } = context;
  if (batch.completed !== answered || batch.failed !== done - answered) await updateBatch(context.env.USAGE_DB, batch, { completed: answered, failed: done - answered });
}

/** The error type of an error body in either dialect (`{error: {type}}`), for the line's outcome. */
function errorTypeOf(body: unknown): string {
  const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
  const type = typeof error === "object" && error !== null ? (error as { type?: unknown }).type : undefined;
  return typeof type === "string" ? type : "api_error";
}

function outcomeOf(result: LineResult): LineOutcome {
  const body: unknown = JSON.parse(result.body);
  if (result.status === 200) return { index: result.index, ok: true, body, usage: result.usage ?? emptyUsage() };
  return { index: result.index, ok: false, status: result.status, body, errorType: errorTypeOf(body) };
}

/** The line book's results read forward in line order, one page at a time. */
class RecordedResults {
  readonly #lines: LineBook;
  #page: LineResult[] = [];
  #next = 0;
  #ended = false;

  constructor(lines: LineBook) {
    this.#lines = lines;
  }

  /** Line `index`'s result, or undefined when it has none; asked for in increasing order. */
  at(index: number): LineResult | undefined {
    for (;;) {
      const result = this.#page[this.#next];
      if (result) {
        if (result.index > index) return undefined;
        this.#next++;
        if (result.index === index) return result;
        continue;
      }
      if (this.#ended) return undefined;
      this.#page = this.#lines.results(index, RESULTS_PAGE);
      this.#next = 0;
      this.#ended = this.#page.length < RESULTS_PAGE;
      if (this.#page.length === 0) return undefined;
    }
  }
}

const FINAL_OF: Record<StopReason | "completed", BatchStatus> = { completed: "completed", batch_cancelled: "cancelled", batch_expired: "expired" };

/**
 * Writes the result files: the input file and the line book read side by side in line order (one page of
 * results at a time), every answered line as its response, every other line as never run for `reason`.
 */
async function finalize(context: RunnerContext, lines: LineBook, reason: StopReason | "completed"): Promise<RunnerStep> {
  const { env, batch, config } = context;
  if (!(await transition(env.USAGE_DB, batch, ["in_progress", "cancelling", "finalizing"], "finalizing"))) return { next: "done" };
  const results = new BatchResults(env, batch, config, { total: batch.total, lineEvents: "unprocessed only" });
  const file = await requireFile(env, batch.workspaceId, batch.inputFileId);
  const recorded = new RecordedResults(lines);
  let index = 0;
  for await (const raw of linesOf(await openFileContent(env, file))) {
    if (raw.text.trim() === "") continue;
    const customId = parseRequestLine(raw).custom_id;
    const result = recorded.at(index);
    if (result) await results.add(outcomeOf(result), customId);
    else await results.unprocessed(index, customId, reason === "completed" ? "batch_failed" : reason);
    index++;
  }
  const summary = await results.close();
  await transition(env.USAGE_DB, batch, ["finalizing"], FINAL_OF[reason], summary);
  return { next: "done" };
}

const nextProgress: RunnerStep = { next: "poll", afterMs: PROGRESS_POLL_MS };

export const gatewayRunner: BatchRunner = {
  async start(context) {
    const { env, batch } = context;
    const lines = context.lines();
    // Cancelled while it waited: the driver's cancel step stops the lines and the next poll finishes the batch.
    if (!(await transition(env.USAGE_DB, batch, ["validating"], "in_progress"))) return { next: "poll", afterMs: 0 };
    lines.begin();
    await dispatch(context, lines);
    return nextProgress;
  },

  async poll(context) {
    const { batch } = context;
    const lines = context.lines();
    if (batch.status === "finalizing") return finalize(context, lines, lines.stopReason() ?? "completed");
    if (batch.status === "cancelling") lines.stop("batch_cancelled");
    else if (batch.expiresAt !== null && Date.now() / 1000 > batch.expiresAt) lines.stop("batch_expired");
    const stopped = lines.stopReason();
    if (stopped) {
      // Lines already running finish and keep their results; the batch ends once none is left.
      if (lines.running(Date.now()) === 0) return finalize(context, lines, stopped);
      await saveProgress(context, lines);
      return nextProgress;
    }
    if (batch.status !== "in_progress") return nextProgress;
    lines.begin();
    const { done } = lines.counts();
    if (lines.cursor().exhausted && done >= batch.total) return finalize(context, lines, "completed");
    await resendQuiet(context, lines);
    await dispatch(context, lines);
    await saveProgress(context, lines);
    return nextProgress;
  },

  cancel(context) {
    context.lines().stop("batch_cancelled");
    return Promise.resolve({ next: "poll", afterMs: 0 });
  },
};

/**
 * Whether a recorded result should wake the driver now rather than at its next poll: the window ran low, every
 * line is answered, or a stopped batch's last running line finished.
 */
export function driverWanted(lines: LineBook, total: number, now: number): boolean {
  const cursor = lines.cursor();
  const { done } = lines.counts();
  if (lines.stopReason()) return lines.running(now) === 0;
  if (cursor.exhausted) return done >= total;
  return lines.inFlight() <= REFILL_AT;
}
