import type { BatchDriver } from "../../durable-objects/batch-driver";
import { BatchRequestLineSchema } from "../files/batch-lines";
import { fileObjectKey } from "../files/store";
import { GatewayError } from "../lib/errors";
import { batchKeyOf } from "../policy/auth";
import { BACKGROUND_DEFERRAL_HEADER, asBatchLine } from "../policy/batch-line-caller";
import type { KeyRecord } from "../policy/keys";
import type { UsageEvent } from "../usage/event";
import { retryDelaySeconds } from "../lib/queue-retry";
import type { LineClaim, LineResult } from "./line-book";
import { BatchLineMessageSchema, sendLineMessages, type BatchLineMessage } from "./line-messages";

/**
 * The batch-lines Queue's consumer: runs lines of gateway-run batches through the gateway's own pipeline, a few
 * at a time. Each line is claimed from its batch's driver just before it runs (a line already answered, run by
 * another live delivery, or of a batch that stopped is not run), read from the input file by its byte range, served as a request to
 * the batch's endpoint (`serve`: the Worker's own fetch, so routing, retries, fallbacks, cache, coalescing,
 * guardrails, limits and usage are the interactive path's), waits for the request to settle (its usage event
 * handed to the Queue), then records the answer once and acknowledges the message. A line admission defers
 * (no spare capacity on its key) is given back and sent again for later, with the rest of its batch's lines in
 * this delivery. A delivery that fails is retried by the Queue; its lines' claims pass to the retry.
 */

/** The Worker's fetch handler: a batch line is served exactly as a client's request is. */
export type ServeRequest = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/**
 * Lines run at once per delivery: Workers allow six simultaneous outgoing connections per invocation; more
 * would wait inside the runtime while their attempts' timers already run.
 */
export const LINES_IN_PARALLEL = 6;
/** The largest answer kept as a line's result (Durable Object RPC carries 32 MiB; a result file line stays readable). */
export const MAX_RESULT_CHARS = 8 * 1024 * 1024;
/** Internal requests need an absolute URL; nothing resolves or sees this host. */
const LINE_ORIGIN = "https://batch-line.switchyard.internal";

type Line = { message: Message<unknown>; line: BatchLineMessage; claim: LineClaim };
/** A batch's lines in this delivery: its driver, and the key it runs as (looked up once, when a line first runs). */
type BatchLines = { driver: DurableObjectStub<BatchDriver>; key: () => Promise<KeyRecord | null> };
type LineRun = { kind: "settled" } | { kind: "deferred"; afterMs: number } | { kind: "not run" };

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
const dialectOf = (line: BatchLineMessage) => (line.endpoint === "/v1/messages" ? "anthropic" : "openai");

/** A line's answer made by the consumer itself (a revoked key, an unreadable line): an error in the endpoint's dialect. */
function failure(line: BatchLineMessage, error: GatewayError): LineResult {
  return { index: line.index, status: error.status, body: JSON.stringify(error.bodyFor(dialectOf(line))), usage: null };
}

async function readLine(env: Env, line: BatchLineMessage): Promise<unknown> {
  const object = await env.FILES.get(fileObjectKey(line.workspaceId, line.inputFileId), { range: { offset: line.offset, length: line.length } });
  if (!object) throw new GatewayError({ status: 404, type: "invalid_request_error", code: "file_not_found", message: `The batch's input file ${line.inputFileId} was deleted.` });
  return BatchRequestLineSchema.parse(JSON.parse(await object.text())).body;
}

/** Serves one line through the pipeline and waits until it settled; the usage event is its settled account. */
async function serveLine(env: Env, ctx: ExecutionContext, serve: ServeRequest, item: Line, key: KeyRecord, body: unknown) {
  let event: UsageEvent | undefined;
  const request = asBatchLine(new Request(`${LINE_ORIGIN}${item.line.endpoint}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }), {
    workspaceId: item.line.workspaceId,
    key,
    batchId: item.line.batchId,
    index: item.line.index,
    onSettled: (settled) => (event = settled),
  });
  const settling: Promise<unknown>[] = [];
  const lineContext: ExecutionContext = {
    waitUntil: (promise) => {
      settling.push(promise);
      ctx.waitUntil(promise);
    },
    passThroughOnException: () => undefined,
    exports: ctx.exports,
    props: ctx.props,
  };
  const response = await serve(request, env, lineContext);
  const text = await response.text();
  for (let settled = 0; settled < settling.length; ) {
    const pending = settling.slice(settled);
    settled = settling.length;
    await Promise.allSettled(pending);
  }
  return { response, text, event };
}

/** Whether a line deferred for `afterMs` can still run before its batch's completion window ends. */
const canWait = (afterMs: number, expiresAt: number | null) => Number.isFinite(afterMs) && (expiresAt === null || Date.now() + afterMs < expiresAt * 1000);

/** Claims the line and, when this delivery is to run it, runs it and records its answer. */
async function runLine(env: Env, ctx: ExecutionContext, serve: ServeRequest, batch: BatchLines, item: Line): Promise<LineRun> {
  const { line, message } = item;
  try {
    const [verdict] = await batch.driver.claimLines({ claims: [item.claim] });
    if (verdict?.verdict === "busy") {
      message.retry({ delaySeconds: Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)) });
      return { kind: "not run" };
    }
    if (verdict?.verdict !== "run") {
      message.ack();
      return { kind: "not run" };
    }
    const key = await batch.key();
    let result: LineResult;
    if (!key) result = failure(line, new GatewayError({ status: 401, type: "invalid_request_error", code: "invalid_api_key", message: "The gateway key that created this batch was revoked." }));
    else {
      const served = await serveLine(env, ctx, serve, item, key, await readLine(env, line));
      const deferral = served.response.headers.get(BACKGROUND_DEFERRAL_HEADER);
      const afterMs = deferral === null ? undefined : deferral === "never" ? Number.POSITIVE_INFINITY : Number(deferral);
      // A deferral that cannot end in time is the line's answer: the refusal says why.
      if (afterMs !== undefined && canWait(afterMs, line.expiresAt)) return { kind: "deferred", afterMs };
      result =
        served.text.length > MAX_RESULT_CHARS
          ? failure(line, new GatewayError({ status: 502, type: "api_error", code: "response_too_large", message: `The answer (${served.text.length} characters) is larger than a batch result may be (${MAX_RESULT_CHARS}).` }))
          : { index: line.index, status: served.response.status, body: served.text, usage: served.response.status === 200 && served.event ? served.event.usage : null };
    }
    await batch.driver.recordLine(result);
    message.ack();
    return { kind: "settled" };
  } catch (error) {
    logError("batch line failed; the Queue retries it", { batchId: line.batchId, index: line.index, attempts: message.attempts, error: describe(error) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return { kind: "not run" };
  }
}

/**
 * Lines of one batch deferred in this delivery, queued again to be visible after `afterMs`: the one that was
 * claimed gives its claim back; their messages are acknowledged once the new ones are out.
 */
async function requeue(env: Env, batch: BatchLines, items: Line[], afterMs: number): Promise<void> {
  const delaySeconds = Math.max(1, Math.ceil(afterMs / 1000));
  try {
    await batch.driver.releaseLines({ claims: items.map((i) => ({ index: i.claim.index, messageId: i.claim.messageId })), visibleAt: Date.now() + delaySeconds * 1000 });
    await sendLineMessages(env.BATCH_QUEUE, items.map((i) => i.line), delaySeconds);
    for (const item of items) item.message.ack();
  } catch (error) {
    logError("deferred batch lines could not be queued again; the Queue retries them", { batchId: items[0]!.line.batchId, lines: items.length, error: describe(error) });
    for (const item of items) item.message.retry({ delaySeconds });
  }
}

export async function consumeBatchLines(delivery: MessageBatch<unknown>, env: Env, ctx: ExecutionContext, serve: ServeRequest): Promise<void> {
  const batches = new Map<string, BatchLines>();
  const queue: Line[] = [];
  for (const message of delivery.messages) {
    const parsed = BatchLineMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      // Only the gateway's drivers send here: a message of another shape can never run (the driver resends lines that go quiet).
      logError("batch-lines message is not a line", { messageId: message.id, issue: parsed.error.issues[0]?.message });
      message.ack();
      continue;
    }
    const line = parsed.data;
    if (!batches.has(line.batchId)) {
      let key: Promise<KeyRecord | null> | undefined;
      batches.set(line.batchId, { driver: env.BATCH_DRIVER.getByName(line.batchId), key: () => (key ??= batchKeyOf(env, line.workspaceId, line.keyId)) });
    }
    queue.push({ message, line, claim: { index: line.index, messageId: message.id, attempt: message.attempts } });
  }

  // Once a line of a batch is deferred, the batch's lines not yet started wait too: its key has no room now.
  const deferredFor = new Map<string, number>();
  const deferred = new Map<string, Line[]>();
  const defer = (item: Line) => deferred.set(item.line.batchId, [...(deferred.get(item.line.batchId) ?? []), item]);
  let next = 0;
  const lane = async () => {
    while (next < queue.length) {
      const item = queue[next++]!;
      if (deferredFor.has(item.line.batchId)) {
        defer(item);
        continue;
      }
      const run = await runLine(env, ctx, serve, batches.get(item.line.batchId)!, item);
      if (run.kind === "deferred") {
        deferredFor.set(item.line.batchId, Math.max(deferredFor.get(item.line.batchId) ?? 0, run.afterMs));
        defer(item);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LINES_IN_PARALLEL, queue.length) }, lane));
  await Promise.all([...deferred].map(([batchId, items]) => requeue(env, batches.get(batchId)!, items, deferredFor.get(batchId)!)));
}
