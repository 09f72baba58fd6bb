import type { Context } from "hono";
import { cachePolicyFor, cacheSettingsOf } from "../cache/options";
import { base64Encode } from "../lib/crypto";
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
  newExecutionScope({ env: c.env, workspaceId: c.get("workspaceId"), config: c.get("config"), record: c.get("record"), clientSignal: c.req.raw.signal });

/** What routing may look at: the model, headers, metadata and the prompt's estimated size. */
const routingRequest = (c: Context<AppEnv>, model: string, promptTokens: number, metadata?: Record<string, string>, maxTokens?: number): RoutingRequest => ({
  model,
  header: (name) => c.req.header(name),
  metadata: metadata ?? {},
  promptTokens,
  maxTokens,
});

/** Serves a chat request (from either dialect) end to end: plan, attempts, and the rendered response or stream. */
export async function serveChat(c: Context<AppEnv>, request: ChatRequest): Promise<Response> {
  const record = c.get("record");
  record.stream = request.stream;
  const scope = scopeOf(c);
  observeRequest(record, scope.config, request);
  const plan = planTargets(scope, routingRequest(c, request.model, estimatePromptTokens(request), request.metadata, request.maxTokens), chatNeeds(request));
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

export async function serveEmbeddings(c: Context<AppEnv>, request: EmbeddingsRequest): Promise<Response> {
  const record = c.get("record");
  record.operation = "embeddings";
  const scope = scopeOf(c);
  const plan = planTargets(scope, routingRequest(c, request.model, estimateTextTokens(request.input)), EMBEDDINGS_NEEDS);
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
