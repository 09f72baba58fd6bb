import type { Context } from "hono";
import { cachePolicyFor, cacheSettingsOf } from "../cache/options";
import type { Presentation } from "../dialects/presentation";
import { guardTunedModels } from "../fine-tuning/tuned-models";
import { requestGuardFor, type RequestGuard } from "../guardrails";
import { logGuardrailOutcome } from "../guardrails/log";
import { base64Encode } from "../lib/crypto";
import { requireModelAllowed } from "../policy/keys";
import { admitRequest } from "../policy/limits";
import { EMBEDDINGS_NEEDS, chatNeeds, type Capability } from "../schema/capabilities";
import type { ChatRequest, EmbeddingsRequest } from "../schema/internal";
import { ResponseAccount, loggedRequestOf } from "../settle/account";
import type { AppEnv } from "../types";
import { estimateChatRequest, estimateEmbeddingsRequest, type RequestEstimate } from "../usage/estimate";
import { attemptChat, attemptEmbeddings } from "./attempt";
import { serveCachedChat, type CachedResponse, type UpstreamAnswer } from "./cached";
import { newExecutionScope, planTargets, runAttempts, type ExecutionScope, type RequestPlan, type RoutingRequest } from "./execute";
import { answeredHeaders, respondWithEvents, respondWithResult } from "./respond";

/**
 * The serving step: it decides nothing itself but hands each decision on as a value — the estimate (once per
 * request) to planning and admission, the plan's route and the answer (from the attempt loop or the cache path)
 * to the request record — and registers on it everything the pipeline leaves to do after the response: the
 * limiter's settlement (from admission), the cache writes (from the cache path), the circuit reports. (The usage
 * event is registered for every /v1 request by src/settle/usage-event.ts, since it exists even for requests
 * refused before they get here.)
 */

// `c.get("name")` rather than `c.var.name` on the request path: each `c.var` access makes Hono build a new object of
// every context variable (Object.fromEntries), measurable in CPU profiles (docs/performance.md).
const scopeOf = (c: Context<AppEnv>): ExecutionScope =>
  newExecutionScope({ env: c.env, workspaceId: c.get("workspaceId"), config: c.get("config"), startedAt: c.get("startedAt"), redactor: c.get("redactor"), clientSignal: c.req.raw.signal });

/** What routing may look at: the model, headers, metadata and the request's estimated size. */
const routingRequest = (c: Context<AppEnv>, model: string, estimate: RequestEstimate, metadata?: Record<string, string>): RoutingRequest => ({
  model,
  header: (name) => c.req.header(name),
  metadata: metadata ?? {},
  promptTokens: estimate.promptTokens,
  maxTokens: estimate.maxOutputTokens,
});

/**
 * The request's guardrails (its key's, route's or workspace's policy), or none. The caller applies them to the
 * prompt before anything is counted, logged or sent; the guard stays on the context for the answer, and its
 * outcome is logged after the response.
 */
function guardFor(c: Context<AppEnv>, route: string | undefined): RequestGuard | undefined {
  const keyId = c.get("key").id;
  const guard = requestGuardFor(c.get("config").guardrails, keyId, route);
  if (!guard) return undefined;
  const owner = { requestId: c.get("requestId"), workspaceId: c.get("workspaceId"), keyId };
  const record = c.get("record");
  // Before any check runs: a request its guardrails block still carries their tally in its usage event.
  record.guarded(guard.tally);
  record.after(() => logGuardrailOutcome(guard.tally, owner));
  c.set("guard", guard);
  return guard;
}

export type ServeChatOptions = {
  /** How the answer is shown, when the API brings its own (default: the path's dialect). */
  presentation?: Presentation;
  /** The usage event's operation (default: `chat`). */
  operation?: "chat" | "responses";
};

/**
 * The plan without tuned models of other workspaces; the request's config carries the price of the workspace's own
 * tuned models from here on, so usage, budgets and limits all price them alike (src/fine-tuning/tuned-models.ts).
 */
async function planWithTunedModels(c: Context<AppEnv>, scope: ExecutionScope, request: RoutingRequest, needs: readonly Capability[]): Promise<RequestPlan> {
  const guarded = await guardTunedModels(c.env.USAGE_DB, scope.workspaceId, scope.config, planTargets(scope, request, needs), request.model);
  if (guarded.config !== scope.config) {
    scope.config = guarded.config;
    c.set("config", guarded.config);
  }
  return guarded.plan;
}

/** Serves a chat request (from any dialect) end to end: plan, guardrails, admission, attempts, and the rendered response or stream. */
export async function serveChat(c: Context<AppEnv>, sent: ChatRequest, options: ServeChatOptions = {}): Promise<Response> {
  requireModelAllowed(c.get("key"), sent.model);
  const record = c.get("record");
  if (options.presentation) c.set("presentation", options.presentation);
  const scope = scopeOf(c);
  const planned = estimateChatRequest(sent);
  const plan = await planWithTunedModels(c, scope, routingRequest(c, sent.model, planned, sent.metadata), chatNeeds(sent));
  // Guardrails on the prompt, before anything is counted, logged or sent: what follows sees only the checked
  // request (and its estimate, when redaction changed it).
  const guard = guardFor(c, plan.route);
  const request = guard ? guard.checkInput(sent) : sent;
  const estimate = request === sent ? planned : estimateChatRequest(request);
  const cachePolicy = cachePolicyFor(cacheSettingsOf(scope.config, plan.route), c.req.raw.headers);
  const account = new ResponseAccount(loggedRequestOf(scope.config, request));
  record.serving({ operation: options.operation ?? "chat", stream: request.stream, route: plan.route, estimate, config: scope.config, cacheStatus: cachePolicy?.cache?.status, log: scope.log, account });
  record.after(() => scope.circuits.settle());
  const settleAdmission = await admitRequest(c, plan.attempts.map((a) => a.target), estimate);
  if (settleAdmission) record.after(settleAdmission);
  const callUpstream = async (): Promise<UpstreamAnswer> => {
    const { value: success, answer } = await runAttempts(scope, plan, (prepared, control) => attemptChat(prepared, request, scope.log, control));
    return { success, answer };
  };
  const responding = { account, log: scope.log };
  const first = plan.attempts[0]?.target;
  let served: CachedResponse;
  if (cachePolicy && first) served = await serveCachedChat(c, request, first, cachePolicy, responding, callUpstream);
  else {
    const { success, answer } = await callUpstream();
    const answering = { ...responding, answeredBy: answer.target };
    const response = success.kind === "complete" ? respondWithResult(c, success.result, answering) : respondWithEvents(c, request, success.head, success.rest, answering);
    served = { response, answer, after: [] };
  }
  if (served.answer) record.answered(served.answer);
  for (const task of served.after) record.after(task);
  return served.response;
}

function float32Base64(vector: readonly number[]): string {
  return base64Encode(new Uint8Array(new Float32Array(vector).buffer));
}

export async function serveEmbeddings(c: Context<AppEnv>, sent: EmbeddingsRequest): Promise<Response> {
  requireModelAllowed(c.get("key"), sent.model);
  const record = c.get("record");
  const scope = scopeOf(c);
  const planned = estimateEmbeddingsRequest(sent);
  const plan = await planWithTunedModels(c, scope, routingRequest(c, sent.model, planned), EMBEDDINGS_NEEDS);
  // Input guardrails apply to what is embedded: the provider sees it as it would a prompt.
  const guard = guardFor(c, plan.route);
  const request = guard ? { ...sent, input: guard.checkTexts(sent.input) } : sent;
  const estimate = request === sent ? planned : estimateEmbeddingsRequest(request);
  const account = new ResponseAccount();
  record.serving({ operation: "embeddings", stream: false, route: plan.route, estimate, config: scope.config, cacheStatus: undefined, log: scope.log, account });
  record.after(() => scope.circuits.settle());
  const settleAdmission = await admitRequest(c, plan.attempts.map((a) => a.target), estimate);
  if (settleAdmission) record.after(settleAdmission);
  const { value: result, answer } = await runAttempts(scope, plan, (prepared, control) => attemptEmbeddings(prepared, request, scope.log, control));
  record.answered(answer);
  account.embeddings(result.usage?.promptTokens ?? null);
  // A provider that reports no count (Gemini) is answered, and billed, with the request's estimate.
  const promptTokens = result.usage?.promptTokens ?? estimate.promptTokens;
  const data = result.vectors.map((vector, index) => ({
    object: "embedding",
    index,
    embedding: request.encodingFormat === "base64" ? float32Base64(vector) : vector,
  }));
  return c.json(
    { object: "list", data, model: result.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } },
    200,
    answeredHeaders({ log: scope.log, answeredBy: answer.target }),
  );
}
