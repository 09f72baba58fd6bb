import type { Context } from "hono";
import { cachePolicyFor, cacheSettingsOf } from "../cache/options";
import { requestGuardFor, type RequestGuard } from "../guardrails";
import { logGuardrailOutcome } from "../guardrails/log";
import { base64Encode } from "../lib/crypto";
import { requireModelAllowed } from "../policy/keys";
import { admitRequest, chatDemand, embeddingsDemand } from "../policy/limits";
import { EMBEDDINGS_NEEDS, chatNeeds } from "../schema/capabilities";
import type { ChatRequest, EmbeddingsRequest } from "../schema/internal";
import type { AppEnv } from "../types";
import { observeRequest } from "../usage/observe";
import { attemptChat, attemptEmbeddings } from "./attempt";
import { estimatePromptTokens, estimateTextTokens } from "../routing/estimate";
import { serveCachedChat } from "./cached";
import { newExecutionScope, planTargets, runAttempts, type ExecutionScope, type RoutingRequest } from "./execute";
import { answeredHeaders, respondWithEvents, respondWithResult } from "./respond";

// `c.get("name")` rather than `c.var.name` on the request path: each `c.var` access makes Hono build a new object of
// every context variable (Object.fromEntries), measurable in CPU profiles (docs/performance.md).
const scopeOf = (c: Context<AppEnv>): ExecutionScope =>
  newExecutionScope({ env: c.env, workspaceId: c.get("workspaceId"), config: c.get("config"), record: c.get("record"), redactor: c.get("redactor"), clientSignal: c.req.raw.signal });

/** What routing may look at: the model, headers, metadata and the prompt's estimated size. */
const routingRequest = (c: Context<AppEnv>, model: string, promptTokens: number, metadata?: Record<string, string>, maxTokens?: number): RoutingRequest => ({
  model,
  header: (name) => c.req.header(name),
  metadata: metadata ?? {},
  promptTokens,
  maxTokens,
});

/**
 * The request's guardrails (its key's, route's or workspace's policy), or none. The caller applies them to the
 * prompt before anything is counted, logged or sent; the guard stays on the context for the answer.
 */
function guardFor(c: Context<AppEnv>): RequestGuard | undefined {
  const record = c.get("record");
  const guard = requestGuardFor(c.get("config").guardrails, c.get("key").id, record.route);
  if (!guard) return undefined;
  record.guardrails = guard.tally;
  record.onSettle(() => logGuardrailOutcome(guard.tally, record));
  c.set("guard", guard);
  return guard;
}

/** Serves a chat request (from either dialect) end to end: plan, attempts, and the rendered response or stream. */
export async function serveChat(c: Context<AppEnv>, sent: ChatRequest): Promise<Response> {
  requireModelAllowed(c.get("key"), sent.model);
  const record = c.get("record");
  record.stream = sent.stream;
  const scope = scopeOf(c);
  const plan = planTargets(scope, routingRequest(c, sent.model, estimatePromptTokens(sent), sent.metadata, sent.maxTokens), chatNeeds(sent));
  // Guardrails on the prompt, before anything is counted, logged or sent: what follows sees only the checked request.
  const guard = guardFor(c);
  const request = guard ? guard.checkInput(sent) : sent;
  observeRequest(record, scope.config, request);
  await admitRequest(c, plan.attempts.map((a) => a.target), chatDemand(request));
  const callUpstream = async () => (await runAttempts(scope, plan, (prepared, control) => attemptChat(prepared, request, record, control))).value;
  const cachePolicy = cachePolicyFor(cacheSettingsOf(scope.config, record.route), c.req.raw.headers);
  const first = plan.attempts[0]?.target;
  if (cachePolicy && first) return serveCachedChat(c, request, first, cachePolicy, callUpstream);
  const success = await callUpstream();
  return success.kind === "complete" ? respondWithResult(c, success.result) : respondWithEvents(c, request, success.head, success.rest, {}, {}, success.prepared.target.provider);
}

function float32Base64(vector: readonly number[]): string {
  return base64Encode(new Uint8Array(new Float32Array(vector).buffer));
}

export async function serveEmbeddings(c: Context<AppEnv>, sent: EmbeddingsRequest): Promise<Response> {
  requireModelAllowed(c.get("key"), sent.model);
  const record = c.get("record");
  record.operation = "embeddings";
  const scope = scopeOf(c);
  const plan = planTargets(scope, routingRequest(c, sent.model, estimateTextTokens(sent.input)), EMBEDDINGS_NEEDS);
  // Input guardrails apply to what is embedded: the provider sees it as it would a prompt.
  const guard = guardFor(c);
  const request = guard ? { ...sent, input: guard.checkTexts(sent.input) } : sent;
  await admitRequest(c, plan.attempts.map((a) => a.target), embeddingsDemand(request));
  const { value: result } = await runAttempts(scope, plan, (prepared, control) => attemptEmbeddings(prepared, request, record, control));
  record.usage.promptTokens = result.usage.promptTokens;
  record.finish("success");
  const data = result.vectors.map((vector, index) => ({
    object: "embedding",
    index,
    embedding: request.encodingFormat === "base64" ? float32Base64(vector) : vector,
  }));
  return c.json(
    { object: "list", data, model: result.model, usage: { prompt_tokens: result.usage.promptTokens, total_tokens: result.usage.promptTokens } },
    200,
    answeredHeaders(c),
  );
}
