import type * as z from "zod";
import type { GatewayConfig, Target } from "../config/schema";
import { anthropicMessagesToInternal } from "../dialects/anthropic-messages";
import { openAIChatToInternal } from "../dialects/openai-chat";
import { lineError, parseRequestLine, type BatchEndpoint } from "../files/batch-lines";
import { linesOf } from "../lib/jsonl";
import { GatewayError } from "../lib/errors";
import type { BatchKind, BatchLineRequest } from "../providers/batch";
import { batchApiFor } from "../providers/batch-registry";
import { resolveModel } from "../routing/resolve";
import { isRouteRef, type BatchMode } from "../routing/schema";
import { AnthropicMessagesRequestSchema } from "../schema/anthropic";
import { OpenAIChatRequestSchema, OpenAIEmbeddingsRequestSchema } from "../schema/openai";

/**
 * A batch's input file, read line by line: each line's body parsed in its endpoint's dialect into the internal
 * form, its model resolved against the workspace's routes. Used twice, never holding the file: when the batch is
 * created (every line checked, the batch's mode and target decided) and when a runner submits it.
 */

export type InputLine = { index: number; lineNumber: number; customId: string; model: string; line: BatchLineRequest };

/** What a batch runs on, decided once from all its lines. */
export type BatchPlan = { mode: BatchMode; route: string | null; target: Target | null; total: number };

function parseBody<S extends z.ZodType>(schema: S, body: unknown, lineNumber: number): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = ["body", ...issue.path.map(String)].join(".");
  throw lineError(lineNumber, `invalid "${field}": ${issue.message}.`, "invalid_batch_line", field);
}

/** A line's body as the internal request its endpoint means. */
export function lineRequestOf(endpoint: BatchEndpoint, body: unknown, lineNumber: number): BatchLineRequest {
  if (typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true) {
    throw lineError(lineNumber, "batch requests cannot stream (remove body.stream).", "invalid_batch_line", "body.stream");
  }
  switch (endpoint) {
    case "/v1/chat/completions":
      return { kind: "chat", request: openAIChatToInternal(parseBody(OpenAIChatRequestSchema, body, lineNumber)) };
    case "/v1/messages":
      return { kind: "chat", request: anthropicMessagesToInternal(parseBody(AnthropicMessagesRequestSchema, body, lineNumber)) };
    case "/v1/embeddings": {
      const parsed = parseBody(OpenAIEmbeddingsRequestSchema, body, lineNumber);
      return {
        kind: "embeddings",
        request: {
          model: parsed.model,
          input: typeof parsed.input === "string" ? [parsed.input] : parsed.input,
          encodingFormat: parsed.encoding_format ?? "float",
          ...(parsed.dimensions !== undefined ? { dimensions: parsed.dimensions } : {}),
          ...(parsed.user !== undefined ? { user: parsed.user } : {}),
        },
      };
    }
  }
}

/** The lines of an input file for `endpoint`, parsed; a line for another endpoint is an error naming it. */
export async function* inputLines(content: ReadableStream<Uint8Array>, endpoint: BatchEndpoint): AsyncGenerator<InputLine> {
  let index = 0;
  for await (const raw of linesOf(content)) {
    if (raw.text.trim() === "") continue;
    const request = parseRequestLine(raw);
    if (request.url !== endpoint) {
      throw lineError(raw.number, `url "${request.url}" does not match the batch's endpoint "${endpoint}" (a batch runs one endpoint).`, "invalid_batch_line", "url");
    }
    const line = lineRequestOf(endpoint, request.body, raw.number);
    yield { index: index++, lineNumber: raw.number, customId: request.custom_id, model: line.request.model, line };
  }
}

const sameTarget = (a: Target | null, b: Target | null) => a?.provider === b?.provider && a?.model === b?.model;

/** Native lines may name one provider model in several ways (a route, provider/model); gateway lines name one model. */
const samePlan = (a: Omit<BatchPlan, "total">, b: Omit<BatchPlan, "total">) => a.mode === b.mode && sameTarget(a.target, b.target) && (a.mode === "native" || a.route === b.route);

const kindOf = (endpoint: BatchEndpoint): BatchKind => (endpoint === "/v1/embeddings" ? "embeddings" : "chat");

/** Why `target` cannot run `endpoint` through its provider's own batch API (and which field says so), or undefined when it can. */
export function nativeRefusal(config: GatewayConfig, target: Target, endpoint: BatchEndpoint): { reason: string; param: string } | undefined {
  const provider = config.providers[target.provider];
  const api = provider ? batchApiFor(provider) : undefined;
  if (!provider || !api) return { reason: `provider "${target.provider}"${provider ? ` (${provider.type})` : ""} has no batch API the gateway can relay to`, param: "input_file_id" };
  if (!api.kinds.includes(kindOf(endpoint))) return { reason: `the batch API of provider "${target.provider}" (${provider.type}) does not run ${endpoint}`, param: "endpoint" };
  const reason = api.unsupported?.(provider, target.model);
  return reason ? { reason: `provider "${target.provider}" (${provider.type}) cannot run it natively: ${reason}`, param: "input_file_id" } : undefined;
}

/**
 * One line's mode and target. A route runs in its `batch.mode` (default native: then it needs one provider
 * target). A `provider/model` line runs natively when that provider's batch API can take it, and in gateway mode
 * otherwise (Bedrock, the OpenAI-compatible family, Claude on Vertex AI): there is no route to choose for it.
 */
function planLine(config: GatewayConfig, allowedModels: readonly string[] | undefined, line: InputLine, endpoint: BatchEndpoint): Omit<BatchPlan, "total"> {
  if (allowedModels && !allowedModels.includes(line.model)) {
    throw lineError(line.lineNumber, `this key may not use the model "${line.model}".`, "model_not_allowed", "body.model");
  }
  let resolved: ReturnType<typeof resolveModel>;
  try {
    resolved = resolveModel(config, line.model);
  } catch (error) {
    if (error instanceof GatewayError) throw lineError(line.lineNumber, `unknown model "${line.model}": use a route name or "provider/model" with a configured provider.`, "model_not_found", "body.model");
    throw error;
  }
  if (resolved.kind === "direct") return { mode: nativeRefusal(config, resolved.target, endpoint) ? "gateway" : "native", route: null, target: resolved.target };
  const mode = resolved.route.batch?.mode ?? "native";
  if (mode !== "native") return { mode, route: resolved.name, target: null };
  const route = resolved.route;
  const single = route.strategy === "single" && !isRouteRef(route.target) ? route.target : undefined;
  if (!single) {
    throw lineError(
      line.lineNumber,
      `route "${resolved.name}" (${route.strategy}) can run a native batch only with one provider target; native batches go to one provider's batch API. Give the route "batch": {"mode": "gateway"} or name one provider/model.`,
      "batch_route_not_native",
      "body.model",
    );
  }
  return { mode, route: resolved.name, target: { provider: single.provider, model: single.model } };
}

/**
 * Reads the whole input file once (streamed) and decides the batch's plan: every line valid for the endpoint,
 * its model known and allowed, and all lines on one mode and one model (native: one provider target). Throws a 400
 * naming the first offending line.
 */
export async function planBatch(content: ReadableStream<Uint8Array>, endpoint: BatchEndpoint, config: GatewayConfig, allowedModels: readonly string[] | undefined): Promise<BatchPlan> {
  let plan: Omit<BatchPlan, "total"> | undefined;
  let total = 0;
  for await (const line of inputLines(content, endpoint)) {
    const here = planLine(config, allowedModels, line, endpoint);
    if (!plan) plan = here;
    else if (!samePlan(here, plan)) {
      const describe = (p: Omit<BatchPlan, "total">) =>
        p.mode === "native" ? `${p.target!.provider}/${p.target!.model}` : p.route ? `route "${p.route}" (gateway mode)` : `${p.target!.provider}/${p.target!.model} (gateway mode)`;
      throw lineError(line.lineNumber, `this line runs on ${describe(here)} but line 1 on ${describe(plan)}; one batch runs on one model.`, "batch_mixed_targets", "body.model");
    }
    total++;
  }
  if (!plan) throw new GatewayError({ status: 400, type: "invalid_request_error", code: "empty_file", param: "input_file_id", message: "The input file holds no requests." });
  return { ...plan, total };
}
