import { Hono } from "hono";
import { OpenAIBatchBook, type LineRunner } from "./batches";
import { FineTuningBook, mountFineTuningRoutes } from "./fine-tuning";
import { SSE_RESPONSE_HEADERS, argumentsFor, countTokens, eventStream, pieces, rawErrorBody, type Fault, truncateToTokens } from "./scenarios";

/**
 * An OpenAI API simulator speaking the real wire format: Chat Completions (JSON and SSE with
 * `stream_options.include_usage`), Embeddings (float and base64) and Models, with OpenAI's error bodies.
 */

type Message = { role: string; content?: unknown; tool_calls?: unknown[] };
export type ChatBody = {
  model?: string;
  messages?: Message[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { function: { name: string; parameters?: unknown } }[];
  tool_choice?: unknown;
  max_tokens?: number;
  max_completion_tokens?: number;
};

export type SimulatorContext = {
  fault: Fault | undefined;
  validKey: (key: string) => boolean;
  /** The request URL as the client sent it (scenario prefix included): what a request signature covers. */
  originalUrl: string;
};

/** How an OpenAI-format server other than OpenAI streams (Azure, compatible servers). */
export type ChatDialect = {
  /** Azure opens streams with a chunk holding only prompt_filter_results (no id, model or choices). */
  promptFilterChunk?: boolean;
  /** Usage rides on the finish chunk whether or not stream_options asked for it (Mistral, Together, ...). */
  usageInFinishChunk?: boolean;
};

export const openAIError = (status: number, message: string, type = "invalid_request_error", code: string | null = null) =>
  Response.json({ error: { message, type, param: null, code } }, { status });

const contentText = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part) => (typeof part === "object" && part !== null && "text" in part ? String(part.text) : "")).join(" ")
      : "";

/** The reply the simulator gives: deterministic, derived from the conversation. */
export function replyFor(messages: Message[], fault: Fault | undefined): string {
  if (fault?.text !== undefined) return fault.text;
  const last = messages.at(-1);
  if (last?.role === "tool") return `The tool said: ${contentText(last.content)}`;
  return `Hello from the simulator. You said: ${contentText(last?.content)}`;
}

export const promptTokensOf = (messages: Message[]) => messages.reduce((sum, m) => sum + countTokens(contentText(m.content) || m.role), 0);

function wantsToolCall(body: ChatBody): { name: string; parameters: unknown } | undefined {
  if (!body.tools?.length || body.tool_choice === "none") return undefined;
  if (body.messages?.at(-1)?.role === "tool") return undefined;
  const forced = typeof body.tool_choice === "object" && body.tool_choice !== null && "function" in body.tool_choice ? (body.tool_choice as { function: { name: string } }).function.name : undefined;
  const tool = body.tools.find((t) => t.function.name === forced) ?? body.tools[0]!;
  return { name: tool.function.name, parameters: tool.function.parameters };
}

export function chat(body: ChatBody, ctx: SimulatorContext, dialect: ChatDialect = {}): Response {
  const messages = body.messages ?? [];
  const model = body.model ?? "gpt-4o-mini";
  const id = `chatcmpl-sim${Math.random().toString(36).slice(2, 12)}`;
  const created = Math.floor(Date.now() / 1000);
  const tool = wantsToolCall(body);
  const limit = body.max_completion_tokens ?? body.max_tokens;
  let text = tool ? "" : replyFor(messages, ctx.fault);
  let finish = tool ? "tool_calls" : "stop";
  if (limit !== undefined && countTokens(text) > limit) {
    text = truncateToTokens(text, limit);
    finish = "length";
  }
  const toolCall = tool ? { id: `call_sim${id.slice(-6)}`, type: "function", function: { name: tool.name, arguments: JSON.stringify(argumentsFor(tool.parameters)) } } : undefined;
  const promptTokens = promptTokensOf(messages);
  const completionTokens = tool ? countTokens(toolCall!.function.arguments) : countTokens(text);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };

  if (!body.stream) {
    return Response.json({
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{ index: 0, message: { role: "assistant", content: tool ? null : text, refusal: null, ...(toolCall ? { tool_calls: [toolCall] } : {}) }, logprobs: null, finish_reason: finish }],
      usage,
      system_fingerprint: "fp_sim",
    });
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (delta: unknown, finishReason: string | null = null) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_sim", choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...(includeUsage ? { usage: null } : {}), ...(finishReason && dialect.usageInFinishChunk ? { usage } : {}) })}\n\n`;
  const events = [chunk({ role: "assistant", content: "", refusal: null })];
  if (dialect.promptFilterChunk) {
    events.unshift(`data: ${JSON.stringify({ choices: [], created: 0, id: "", model: "", object: "", prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: "safe" } } }] })}\n\n`);
  }
  if (toolCall) {
    events.push(chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: "function", function: { name: toolCall.function.name, arguments: "" } }] }));
    const args = toolCall.function.arguments;
    for (let i = 0; i < args.length; i += 8) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 8) } }] }));
  } else {
    for (const piece of pieces(text)) events.push(chunk({ content: piece }));
  }
  events.push(chunk({}, finish));
  if (includeUsage) events.push(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_sim", choices: [], usage })}\n\n`);
  events.push("data: [DONE]\n\n");
  const errorEvent = (message: string) => `data: ${JSON.stringify({ error: { message, type: "server_error", param: null, code: null } })}\n\n`;
  return new Response(eventStream(events, ctx.fault, errorEvent), { headers: SSE_RESPONSE_HEADERS });
}

function float32ToBase64(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A deterministic embedding: `dimensions` floats derived from the text. */
export function embeddingOf(text: string, dimensions = 8): number[] {
  let seed = 0;
  for (const char of text) seed = (seed * 31 + char.charCodeAt(0)) >>> 0;
  return Array.from({ length: dimensions }, (_, i) => Math.fround(Math.sin(seed + i) / 2));
}

export function embeddings(body: { model?: string; input?: unknown; encoding_format?: string; dimensions?: number }): Response {
  const inputs = typeof body.input === "string" ? [body.input] : Array.isArray(body.input) ? body.input.map(String) : [];
  if (inputs.length === 0) return openAIError(400, "'input' is required", "invalid_request_error", "invalid_value");
  const data = inputs.map((text, index) => {
    const vector = embeddingOf(text, body.dimensions ?? 8);
    const embedding = body.encoding_format === "base64" ? float32ToBase64(vector) : vector;
    return { object: "embedding", index, embedding };
  });
  const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
  return Response.json({ object: "list", data, model: body.model ?? "text-embedding-3-small", usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

/**
 * OpenAI's Files and Batch APIs under `prefix` (OpenAI: /v1; Azure: /openai or /openai/v1): multipart upload,
 * file content, batch create / retrieve (each read advances the batch) / cancel.
 */
export function mountBatchRoutes(app: Hono<{ Bindings: SimulatorContext }>, prefix: string, run: LineRunner, keyOf: (headers: Headers) => string, book = new OpenAIBatchBook()): OpenAIBatchBook {
  app.post(`${prefix}/files`, async (c) => {
    const form = await c.req.parseBody();
    const file = form.file;
    if (typeof form.purpose !== "string") return openAIError(400, "Missing required parameter: 'purpose'.");
    if (!(file instanceof File)) return openAIError(400, "Missing required parameter: 'file'.");
    return c.json(book.fileObject(book.addFile(file.name, form.purpose, await file.text())));
  });
  app.get(`${prefix}/files/:id`, (c) => {
    const file = book.files.get(c.req.param("id"));
    if (!file) return openAIError(404, `No such File object: ${c.req.param("id")}`, "invalid_request_error", "file_not_found");
    const object = book.fileObject(file);
    book.pending.delete(file.id);
    return c.json(object);
  });
  app.get(`${prefix}/files/:id/content`, (c) => {
    const file = book.files.get(c.req.param("id"));
    return file ? c.body(file.content, 200, { "content-type": "application/octet-stream" }) : openAIError(404, `No such File object: ${c.req.param("id")}`, "invalid_request_error", "file_not_found");
  });
  app.post(`${prefix}/batches`, async (c) => {
    const created = book.create(await c.req.json(), c.env.fault, keyOf(c.req.raw.headers));
    return typeof created === "string" ? openAIError(400, created) : c.json(book.batchObject(created));
  });
  app.get(`${prefix}/batches/:id`, async (c) => {
    const batch = book.batches.get(c.req.param("id"));
    if (!batch) return openAIError(404, `No batch found with id '${c.req.param("id")}'.`);
    await book.advance(batch, run);
    return c.json(book.batchObject(batch));
  });
  app.post(`${prefix}/batches/:id/cancel`, (c) => {
    const batch = book.batches.get(c.req.param("id"));
    if (!batch) return openAIError(404, `No batch found with id '${c.req.param("id")}'.`);
    book.cancel(batch);
    return c.json(book.batchObject(batch));
  });
  return book;
}

const answerOf = async (response: Response) => ({ status: response.status, body: await response.json() });

export function openAISimulator() {
  const app = new Hono<{ Bindings: SimulatorContext }>();
  const files = new OpenAIBatchBook();
  app.use("*", async (c, next) => {
    const auth = c.req.header("authorization") ?? "";
    const key = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!c.env.validKey(key)) return openAIError(401, `Incorrect API key provided: ${key.slice(0, 3)}***. You can find your API key at https://platform.openai.com/account/api-keys.`, "invalid_request_error", "invalid_api_key");
    const fault = c.env.fault;
    if (fault?.status) {
      const raw = rawErrorBody(fault);
      if (raw) return raw;
      return new Response(JSON.stringify({ error: { message: fault.message ?? `Simulated error ${fault.status}`, type: fault.status === 429 ? "rate_limit_exceeded" : fault.status >= 500 ? "server_error" : "invalid_request_error", param: null, code: null } }), {
        status: fault.status,
        headers: { "content-type": "application/json", ...fault.headers },
      });
    }
    await next();
  });
  const tuning = new FineTuningBook(files, {
    models: ["gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14", "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", "gpt-3.5-turbo-0125", "babbage-002", "davinci-002"],
    tunedName: (base, suffix, id) => `ft:${base}:switchyard-sim:${suffix ?? ""}:${id}`,
    error: (status, message, code) => openAIError(status, message, "invalid_request_error", code ?? null),
  });
  app.post("/v1/chat/completions", async (c) => {
    const body = await c.req.json<ChatBody>();
    // Tuned models exist once a job made them (checkpoints too).
    if (body.model?.startsWith("ft:") && !tuning.tunedModels.has(body.model)) return openAIError(404, `The model \`${body.model}\` does not exist or you do not have access to it.`, "invalid_request_error", "model_not_found");
    return chat(body, c.env);
  });
  app.post("/v1/embeddings", async (c) => embeddings(await c.req.json()));
  app.get("/v1/models", (c) => c.json({ object: "list", data: [{ id: "gpt-4o-mini", object: "model", created: 0, owned_by: "openai" }] }));
  const noFault: SimulatorContext = { fault: undefined, validKey: () => true, originalUrl: "" };
  const keyOf = (headers: Headers) => headers.get("authorization")?.slice(7) ?? "";
  mountBatchRoutes(app, "/v1", async (url, body) => answerOf(url.endsWith("/embeddings") ? embeddings(body) : chat(body as ChatBody, noFault)), keyOf, files);
  mountFineTuningRoutes(app, "/v1", tuning, keyOf, (status, message, code) => openAIError(status, message, "invalid_request_error", code ?? null));
  return app;
}
