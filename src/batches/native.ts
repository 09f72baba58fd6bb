import type { GatewayConfig } from "../config/schema";
import { renderAnthropicMessage } from "../dialects/anthropic-messages";
import { renderOpenAIChat } from "../dialects/openai-chat";
import { parseRequestLine } from "../files/batch-lines";
import { linesOf } from "../lib/jsonl";
import { openFileContent, requireFile } from "../files/store";
import { GatewayError } from "../lib/errors";
import { POLL_FIRST_MS, nextPoll } from "../lib/poll-schedule";
import { batchApiFor } from "../providers/batch-registry";
import type { BatchKind, NativeLine, ProviderBatchApi, ProviderBatchRef, ProviderCall, ProviderLineOutcome } from "../providers/batch";
import { Redactor } from "../lib/redact";
import { isRefusal, prepareTarget, providerCallOf, upstreamAccessFor, type PreparedTarget } from "../pipeline/upstream";
import { emptyUsage } from "../schema/internal";
import { inputLines } from "./input";
import { BatchResults, type LineOutcome, type UnprocessedReason } from "./results";
import type { BatchRunner, RunnerContext, RunnerStep } from "./runner";
import type { BatchRecord, BatchStatus } from "./schema";
import { transition, updateBatch } from "./store";

/**
 * The native runner: a batch relayed to its provider's own batch API. `start` translates every line with the
 * chat / embeddings adapters' request builders (models rewritten to the provider's), uploads them and creates the
 * provider batch; `poll` follows its state; when it ends, the results are read back, rendered in the batch
 * endpoint's dialect and written as OpenAI's output and error files. The provider's ids stay in the record's
 * runner state; provider errors reach the client redacted.
 */


type NativeState = { ref: ProviderBatchRef; polls: number };

const kindOf = (batch: BatchRecord): BatchKind => (batch.endpoint === "/v1/embeddings" ? "embeddings" : "chat");

const stateOf = (batch: BatchRecord): NativeState | undefined => {
  const state = batch.runnerState as NativeState | null;
  return state && typeof state === "object" && state.ref ? state : undefined;
};


type Provider = { api: ProviderBatchApi; prepared: PreparedTarget; call: ProviderCall };

/** The batch's provider target made callable, through the same credential resolution as chat requests. */
function providerOf(env: Env, batch: BatchRecord, config: GatewayConfig): Provider {
  if (!batch.provider || !batch.model) throw new GatewayError({ status: 500, type: "api_error", code: "batch_without_target", message: `Batch ${batch.id} has no provider target.` });
  const prepared = prepareTarget(upstreamAccessFor(env, batch.workspaceId, config, new Redactor()), config.providers, { provider: batch.provider, model: batch.model });
  const api = batchApiFor(prepared.config);
  if (!api) throw new GatewayError({ status: 400, type: "invalid_request_error", code: "batch_unsupported", message: `Provider "${batch.provider}" has no batch API.` });
  return { api, prepared, call: providerCallOf(prepared) };
}

async function* nativeLines(env: Env, batch: BatchRecord): AsyncGenerator<NativeLine> {
  const file = await requireFile(env, batch.workspaceId, batch.inputFileId);
  for await (const line of inputLines(await openFileContent(env, file), batch.endpoint)) yield { key: `r${line.index}`, line: line.line };
}

/** The custom_ids by line index (what the provider echoes is our `r<index>` key). */
async function customIdsOf(env: Env, batch: BatchRecord): Promise<string[]> {
  const file = await requireFile(env, batch.workspaceId, batch.inputFileId);
  const ids: string[] = [];
  for await (const raw of linesOf(await openFileContent(env, file))) if (raw.text.trim() !== "") ids.push(parseRequestLine(raw).custom_id);
  return ids;
}

const dialectOf = (batch: BatchRecord): "openai" | "anthropic" => (batch.endpoint === "/v1/messages" ? "anthropic" : "openai");

/** A provider's result as the batch endpoint's response body (what the same request would have answered). */
function lineOutcomeOf(batch: BatchRecord, outcome: ProviderLineOutcome, redactor: Redactor): LineOutcome | undefined {
  const index = Number(outcome.key.slice(1));
  if (!Number.isInteger(index) || !outcome.key.startsWith("r")) return undefined;
  if (!outcome.ok) {
    if ("skipped" in outcome) return undefined;
    const status = outcome.status >= 500 ? 502 : outcome.status;
    const error = new GatewayError({ status, message: `${batch.provider}: ${redactor.redact(outcome.error.message)}`, ...(outcome.error.type ? { type: outcome.error.type } : {}), code: outcome.error.code ?? null, param: outcome.error.param ?? null });
    return { index, ok: false, status, body: error.bodyFor(dialectOf(batch)), errorType: error.type };
  }
  if (outcome.kind === "embeddings") {
    const { result } = outcome;
    // The batch APIs that run embeddings (OpenAI, Azure) report their counts; none is 0, as the provider billed.
    const promptTokens = result.usage?.promptTokens ?? 0;
    const body = { object: "list", data: result.vectors.map((embedding, i) => ({ object: "embedding", index: i, embedding })), model: result.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
    return { index, ok: true, body, usage: { ...emptyUsage(), promptTokens } };
  }
  const body = dialectOf(batch) === "anthropic" ? renderAnthropicMessage(outcome.result) : renderOpenAIChat(outcome.result);
  return { index, ok: true, body, usage: outcome.result.usage };
}

const FINAL_OF: Record<UnprocessedReason, BatchStatus> = { batch_cancelled: "cancelled", batch_expired: "expired", batch_failed: "failed" };

/** Reads the provider's results into the result files and moves the batch to its final status. */
async function finalize(context: RunnerContext, provider: Provider, state: NativeState | undefined, reason: UnprocessedReason | "completed"): Promise<RunnerStep> {
  const { env, batch, config } = context;
  if (!(await transition(env.USAGE_DB, batch, ["in_progress", "cancelling", "validating", "finalizing"], "finalizing"))) return { next: "done" };
  const customIds = await customIdsOf(env, batch);
  const results = new BatchResults(env, batch, config, { total: customIds.length, lineEvents: "every line" });
  if (state) {
    for await (const outcome of provider.api.results(provider.prepared.upstream, provider.call, state.ref, kindOf(batch))) {
      const line = lineOutcomeOf(batch, outcome, provider.prepared.redactor);
      const customId = line ? customIds[line.index] : undefined;
      if (line && customId !== undefined) await results.add(line, customId);
    }
  }
  // Lines the provider never answered: those of a batch that completed had expired there.
  const unprocessed: UnprocessedReason = reason === "completed" ? "batch_expired" : reason;
  for (const [index, customId] of customIds.entries()) if (!results.has(index)) await results.unprocessed(index, customId, unprocessed);
  const summary = await results.close();
  const to: BatchStatus = reason === "completed" ? "completed" : FINAL_OF[reason];
  await transition(env.USAGE_DB, batch, ["finalizing"], to, summary);
  return { next: "done" };
}

async function fail(context: RunnerContext, code: string, message: string): Promise<RunnerStep> {
  await transition(context.env.USAGE_DB, context.batch, ["validating", "in_progress", "cancelling", "finalizing"], "failed", { errors: [{ code, message, param: null, line: null }] });
  return { next: "done" };
}


export const nativeRunner: BatchRunner = {
  async start(context) {
    const { env, batch } = context;
    const provider = providerOf(env, batch, context.config);
    let ref: ProviderBatchRef;
    try {
      ref = await provider.api.submit(provider.prepared.upstream, provider.call, kindOf(batch), nativeLines(env, batch), batch.id);
    } catch (error) {
      if (isRefusal(error)) return fail(context, error.code ?? "provider_refused", error.message);
      throw error;
    }
    const state: NativeState = { ref, polls: 0 };
    if (!(await transition(env.USAGE_DB, batch, ["validating"], "in_progress", { runnerState: state }))) {
      // Cancelled while it was being submitted: keep the ref so the cancel reaches the provider.
      await updateBatch(env.USAGE_DB, batch, { runnerState: state });
      return { next: "poll", afterMs: 0 };
    }
    return nextPoll(0);
  },

  async poll(context) {
    const { env, batch } = context;
    const provider = providerOf(env, batch, context.config);
    const state = stateOf(batch);
    if (batch.status === "finalizing") return finalize(context, provider, state, batch.cancellingAt ? "batch_cancelled" : "completed");
    if (!state) return batch.status === "cancelling" ? finalize(context, provider, undefined, "batch_cancelled") : { next: "poll", afterMs: POLL_FIRST_MS };
    const status = await provider.api.status(provider.prepared.upstream, provider.call, state.ref);
    switch (status.state) {
      case "completed":
        return finalize(context, provider, state, batch.status === "cancelling" ? "batch_cancelled" : "completed");
      case "cancelled":
        return finalize(context, provider, state, "batch_cancelled");
      case "expired":
        return finalize(context, provider, state, "batch_expired");
      case "failed":
        return fail(context, "provider_batch_failed", `${batch.provider}: ${provider.prepared.redactor.redact(status.message ?? "the provider's batch failed")}`);
      case "running": {
        if (batch.expiresAt !== null && Date.now() / 1000 > batch.expiresAt && batch.status === "in_progress") {
          await provider.api.cancel(provider.prepared.upstream, provider.call, state.ref).catch(() => undefined);
          return finalize(context, provider, state, "batch_expired");
        }
        const polls = state.polls + 1;
        await updateBatch(env.USAGE_DB, batch, {
          runnerState: { ...state, polls },
          ...(status.completed !== undefined ? { completed: status.completed } : {}),
          ...(status.failed !== undefined ? { failed: status.failed } : {}),
        });
        return nextPoll(polls);
      }
    }
  },

  async cancel(context) {
    const { env, batch } = context;
    const provider = providerOf(env, batch, context.config);
    const state = stateOf(batch);
    if (!state) return finalize(context, provider, undefined, "batch_cancelled");
    try {
      await provider.api.cancel(provider.prepared.upstream, provider.call, state.ref);
    } catch (error) {
      // A batch that ended at the provider meanwhile cannot be cancelled: the next poll finds it ended.
      if (!isRefusal(error)) throw error;
    }
    return { next: "poll", afterMs: POLL_FIRST_MS / 10 };
  },
};
