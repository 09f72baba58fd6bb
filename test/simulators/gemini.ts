import { Hono } from "hono";
import type { SimulatorContext } from "./openai";
import { embeddingOf } from "./openai";
import { SSE_RESPONSE_HEADERS, argumentsFor, countTokens, eventStream, pieces, type Fault, truncateToTokens } from "./scenarios";

/**
 * A Gemini API simulator speaking the real wire format: generateContent, streamGenerateContent?alt=sse (CRLF
 * framed chunks, usageMetadata on every chunk, finishReason on the last), function calling, batchEmbedContents,
 * and Google's error bodies. Also used for Vertex AI's Google models.
 *
 * Deterministic rules tests rely on:
 * - the reply is "Hello from the simulator. You said: <last user text>" ("The tool said: <output>" after a
 *   functionResponse); with tools declared (and mode ≠ NONE) the model calls the first (or the allowed) function;
 * - a prompt containing "[block]" is refused with promptFeedback.blockReason SAFETY; "[unsafe]" makes the
 *   candidate stop with finishReason SAFETY;
 * - the systemInstruction counts as cached (cachedContentTokenCount), and gemini-2.5 models report
 *   thoughtsTokenCount 8 (0 when thinkingBudget is 0);
 * - gemini-3 models sign their function calls (thoughtSignature) and, as Gemini 3 does, refuse a history whose
 *   first function call in a model turn lacks a signature they issued (or Google's skip sentinel).
 */

type Part = {
  text?: string;
  inlineData?: { mimeType?: string; data?: string };
  fileData?: { mimeType?: string; fileUri?: string };
  functionCall?: { name: string; args?: unknown };
  thoughtSignature?: string;
  functionResponse?: { name: string; response?: unknown };
};
type Content = { role?: string; parts?: Part[] };
type FunctionDeclaration = { name: string; description?: string; parameters?: unknown };
export type GenerateContentBody = {
  contents?: Content[];
  systemInstruction?: Content;
  tools?: { functionDeclarations?: FunctionDeclaration[] }[];
  toolConfig?: { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } };
  generationConfig?: { maxOutputTokens?: number; thinkingConfig?: { thinkingBudget?: number } };
};

const STATUS_NAMES: Record<number, string> = { 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED" };

export const googleError = (status: number, message: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code: status, message, status: STATUS_NAMES[status] ?? "UNKNOWN" } }), { status, headers: { "content-type": "application/json; charset=UTF-8", ...headers } });

const textOf = (content: Content | undefined): string => (content?.parts ?? []).map((p) => p.text ?? "").join("");

/** Keywords Gemini's Schema type rejects, as its JSON parser does ("Unknown name ..."). */
function unknownSchemaKey(schema: unknown, path: string): string | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "additionalProperties" || key === "$schema" || key === "const" || key === "strict") return `Invalid JSON payload received. Unknown name "${key}" at '${path}': Cannot find field.`;
    const nested = key === "properties" && typeof value === "object" && value !== null ? Object.entries(value).map(([name, v]) => unknownSchemaKey(v, `${path}.properties[${name}].value`)).find(Boolean) : key === "items" ? unknownSchemaKey(value, `${path}.items`) : undefined;
    if (nested) return nested;
  }
  return undefined;
}

const issuedSignatures = new Set<string>();
const SKIP_SIGNATURE = "skip_thought_signature_validator";
const signs = (model: string) => model.startsWith("gemini-3");

function newSignature(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(47)); // 47 bytes: base64 padding included
  bytes[0] = 0xfb; // so the base64 holds "+" and "/": the gateway must carry them intact
  bytes[1] = 0xff;
  const signature = btoa(String.fromCharCode(...bytes));
  issuedSignatures.add(signature);
  return signature;
}

/** The checks Gemini makes before generating: roles, part shapes, function responses answering calls. */
function validate(model: string, body: GenerateContentBody): string | undefined {
  const contents = body.contents ?? [];
  if (contents.length === 0) return "* GenerateContentRequest.contents: contents is not specified";
  const called = new Set<string>();
  for (const [i, content] of contents.entries()) {
    if (content.role !== "user" && content.role !== "model") return `Please use a valid role: user, model.`;
    if (!content.parts?.length) return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
    const firstCall = content.parts.find((p) => p.functionCall);
    if (firstCall && signs(model) && firstCall.thoughtSignature !== SKIP_SIGNATURE && !issuedSignatures.has(firstCall.thoughtSignature ?? "")) {
      return `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`${firstCall.functionCall!.name}\` , position ${i + 1}.`;
    }
    for (const part of content.parts) {
      if (part.inlineData && (!part.inlineData.mimeType || !part.inlineData.data)) return `* GenerateContentRequest.contents[${i}]: inlineData needs mimeType and data`;
      if (part.fileData && !part.fileData.fileUri) return `* GenerateContentRequest.contents[${i}]: fileData needs fileUri`;
      if (part.functionCall) called.add(part.functionCall.name);
      if (part.functionResponse && !called.has(part.functionResponse.name)) return `Please ensure that function response turn comes immediately after a function call turn. (${part.functionResponse.name})`;
    }
  }
  for (const [i, tool] of (body.tools ?? []).entries()) {
    for (const [j, declaration] of (tool.functionDeclarations ?? []).entries()) {
      const problem = unknownSchemaKey(declaration.parameters, `tools[${i}].function_declarations[${j}].parameters`);
      if (problem) return problem;
    }
  }
  return undefined;
}

function chooseFunction(body: GenerateContentBody): FunctionDeclaration | undefined {
  const declarations = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  const config = body.toolConfig?.functionCallingConfig;
  if (declarations.length === 0 || config?.mode === "NONE") return undefined;
  const last = body.contents?.at(-1);
  if (last?.parts?.some((p) => p.functionResponse)) return undefined;
  const allowed = config?.allowedFunctionNames?.[0];
  return declarations.find((d) => d.name === allowed) ?? declarations[0];
}

export function generateContent(model: string, body: GenerateContentBody, stream: boolean, fault: Fault | undefined): Response {
  const problem = validate(model, body);
  if (problem) return googleError(400, problem);
  const last = body.contents!.at(-1)!;
  const lastText = textOf(last);
  const promptText = textOf(body.systemInstruction) + body.contents!.map(textOf).join(" ");
  const cached = body.systemInstruction ? countTokens(textOf(body.systemInstruction)) : 0;
  const usageBase = { promptTokenCount: countTokens(promptText), ...(cached ? { cachedContentTokenCount: cached } : {}) };
  const responseId = `sim${Math.random().toString(36).slice(2, 14)}`;
  const envelope = { modelVersion: model, responseId };

  if (lastText.includes("[block]")) {
    const blocked = { promptFeedback: { blockReason: "SAFETY", safetyRatings: [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH" }] }, usageMetadata: { ...usageBase, totalTokenCount: usageBase.promptTokenCount }, ...envelope };
    return stream ? new Response(eventStream([`data: ${JSON.stringify(blocked)}\r\n\r\n`], fault), { headers: SSE_RESPONSE_HEADERS }) : Response.json(blocked);
  }

  const fn = chooseFunction(body);
  const functionResponse = last.parts?.find((p) => p.functionResponse)?.functionResponse;
  let text = fn ? "" : (fault?.text ?? (functionResponse ? `The tool said: ${JSON.stringify(functionResponse.response)}` : `Hello from the simulator. You said: ${lastText}`));
  let finishReason = lastText.includes("[unsafe]") ? "SAFETY" : "STOP";
  if (finishReason === "SAFETY") text = "";
  const limit = body.generationConfig?.maxOutputTokens;
  if (limit !== undefined && countTokens(text) > limit) {
    text = truncateToTokens(text, limit);
    finishReason = "MAX_TOKENS";
  }
  const call = fn ? { functionCall: { name: fn.name, args: argumentsFor(fn.parameters) }, ...(signs(model) ? { thoughtSignature: newSignature() } : {}) } : undefined;
  const candidates = call ? countTokens(JSON.stringify(call.functionCall.args)) : text ? countTokens(text) : 0;
  const thoughts = model.startsWith("gemini-2.5") && body.generationConfig?.thinkingConfig?.thinkingBudget !== 0 ? 8 : 0;
  const usage = { ...usageBase, candidatesTokenCount: candidates, ...(thoughts ? { thoughtsTokenCount: thoughts } : {}), totalTokenCount: usageBase.promptTokenCount + candidates + thoughts };
  const safetyRatings = [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: finishReason === "SAFETY" ? "HIGH" : "NEGLIGIBLE" }];

  if (!stream) {
    const parts = call ? [call] : text ? [{ text }] : [];
    return Response.json({ candidates: [{ content: { parts, role: "model" }, finishReason, index: 0, safetyRatings }], usageMetadata: usage, ...envelope });
  }
  const chunk = (parts: Part[], final: boolean) =>
    `data: ${JSON.stringify({
      candidates: [{ content: { parts, role: "model" }, ...(final ? { finishReason, safetyRatings } : {}), index: 0 }],
      usageMetadata: final ? usage : { ...usageBase, totalTokenCount: usageBase.promptTokenCount },
      ...envelope,
    })}\r\n\r\n`;
  const textPieces = call ? [] : pieces(text);
  const events = call ? [chunk([call], true)] : textPieces.length > 0 && text ? textPieces.map((piece, i) => chunk([{ text: piece }], i === textPieces.length - 1)) : [chunk([], true)];
  return new Response(eventStream(events, fault), { headers: SSE_RESPONSE_HEADERS });
}

type BatchEmbedBody = { requests?: { model?: string; content?: Content; outputDimensionality?: number }[] };

export function batchEmbedContents(model: string, body: BatchEmbedBody): Response {
  const requests = body.requests ?? [];
  if (requests.length === 0) return googleError(400, "* BatchEmbedContentsRequest.requests: requests must not be empty");
  for (const [i, request] of requests.entries()) {
    if (request.model !== `models/${model}`) return googleError(400, `* BatchEmbedContentsRequest.requests[${i}].model: the model must match the URL (models/${model})`);
  }
  return Response.json({ embeddings: requests.map((r) => ({ values: embeddingOf(textOf(r.content), r.outputDimensionality ?? 8) })) });
}

/** `{model}:{method}` of a model call path segment. */
export function splitModelMethod(segment: string): { model: string; method: string } {
  const colon = segment.lastIndexOf(":");
  return colon < 0 ? { model: segment, method: "" } : { model: decodeURIComponent(segment.slice(0, colon)), method: segment.slice(colon + 1) };
}

type GeminiBatch = { id: string; model: string; fileName: string; state: string; outcome: Fault["batch"]; responsesFile: string | null; displayName: string; succeeded: number; failed: number };

/**
 * The Gemini API's Files (resumable upload, download) and Batch Mode: batches advance one state per read
 * (PENDING → RUNNING → SUCCEEDED) and write a responses file of `{key, response}` / `{key, error}` lines.
 */
class GeminiBatchBook {
  readonly files = new Map<string, string>();
  readonly uploads = new Map<string, { displayName: string; content: string }>();
  readonly batches = new Map<string, GeminiBatch>();

  operation(batch: GeminiBatch) {
    const done = !["BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"].includes(batch.state);
    return {
      name: `batches/${batch.id}`,
      metadata: {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
        model: `models/${batch.model}`,
        displayName: batch.displayName,
        state: batch.state,
        ...(batch.responsesFile ? { output: { responsesFile: batch.responsesFile } } : {}),
        batchStats: { requestCount: "0", successfulRequestCount: String(batch.succeeded), failedRequestCount: String(batch.failed) },
      },
      done,
      ...(batch.state === "BATCH_STATE_FAILED" ? { error: { code: 9, message: "Batch failed: the input file could not be processed." } } : {}),
      ...(done && batch.responsesFile ? { response: { "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput", responsesFile: batch.responsesFile } } : {}),
    };
  }

  async advance(batch: GeminiBatch): Promise<void> {
    if (batch.state === "BATCH_STATE_PENDING") {
      batch.state = batch.outcome === "fail" ? "BATCH_STATE_FAILED" : "BATCH_STATE_RUNNING";
      return;
    }
    if (batch.state !== "BATCH_STATE_RUNNING" || batch.outcome === "hold") return;
    const lines = (this.files.get(batch.fileName) ?? "").split("\n").filter((l) => l.trim() !== "");
    const out: string[] = [];
    for (const [i, text] of lines.entries()) {
      if (batch.outcome === "expire" && i > 0) break;
      const { key, request } = JSON.parse(text) as { key: string; request: GenerateContentBody };
      if (JSON.stringify(request).includes("[fail]")) {
        batch.failed++;
        out.push(JSON.stringify({ key, error: { code: 3, message: "Simulated line failure: this request was refused.", status: "INVALID_ARGUMENT" } }));
        continue;
      }
      batch.succeeded++;
      out.push(JSON.stringify({ key, response: await generateContent(batch.model, request, false, undefined).json() }));
    }
    batch.responsesFile = `files/batch-${batch.id}-responses`;
    this.files.set(batch.responsesFile, out.join("\n") + "\n");
    batch.state = batch.outcome === "expire" ? "BATCH_STATE_EXPIRED" : "BATCH_STATE_SUCCEEDED";
  }
}

export function geminiSimulator() {
  const app = new Hono<{ Bindings: SimulatorContext }>();
  const book = new GeminiBatchBook();
  app.use("*", async (c, next) => {
    const key = c.req.header("x-goog-api-key") ?? c.req.query("key") ?? "";
    if (!c.env.validKey(key)) return googleError(400, "API key not valid. Please pass a valid API key.");
    const fault = c.env.fault;
    if (fault?.status) return googleError(fault.status, fault.message ?? `Simulated error ${fault.status}`, fault.headers);
    await next();
  });
  app.post("/:version/models/:call", async (c) => {
    const { model, method } = splitModelMethod(c.req.param("call"));
    if (method === "generateContent") return generateContent(model, await c.req.json(), false, c.env.fault);
    if (method === "streamGenerateContent") {
      if (c.req.query("alt") !== "sse") return googleError(400, "this simulator streams only with alt=sse");
      return generateContent(model, await c.req.json(), true, c.env.fault);
    }
    if (method === "batchEmbedContents") return batchEmbedContents(model, await c.req.json());
    if (method === "batchGenerateContent") {
      const body = await c.req.json<{ batch?: { display_name?: string; input_config?: { file_name?: string } } }>();
      const fileName = body.batch?.input_config?.file_name ?? "";
      if (!book.files.has(fileName)) return googleError(404, `File ${fileName} not found.`);
      const batch: GeminiBatch = { id: Math.random().toString(36).slice(2, 14), model, fileName, state: "BATCH_STATE_PENDING", outcome: c.env.fault?.batch, responsesFile: null, displayName: body.batch?.display_name ?? "", succeeded: 0, failed: 0 };
      book.batches.set(batch.id, batch);
      return c.json(book.operation(batch));
    }
    return googleError(404, `Method ${method} is not found for models/${model}.`);
  });

  // Files API: resumable upload (start, then upload chunks at their offsets, the last with finalize) and download.
  app.post("/upload/:version/files", async (c) => {
    const command = c.req.header("x-goog-upload-command") ?? "";
    if (command === "start") {
      const id = Math.random().toString(36).slice(2, 14);
      const body = await c.req.json<{ file?: { display_name?: string } }>();
      book.uploads.set(id, { displayName: body.file?.display_name ?? "", content: "" });
      const url = new URL(c.env.originalUrl);
      url.searchParams.set("upload_id", id);
      return c.body(null, 200, { "x-goog-upload-url": url.toString(), "x-goog-upload-status": "active", "x-goog-upload-chunk-granularity": String(256 * 1024) });
    }
    const upload = book.uploads.get(c.req.query("upload_id") ?? "");
    if (!upload) return googleError(404, "Upload session not found.");
    const chunk = await c.req.text();
    if (Number(c.req.header("x-goog-upload-offset")) !== new TextEncoder().encode(upload.content).byteLength) return googleError(400, "Invalid upload offset.");
    upload.content += chunk;
    if (!command.includes("finalize")) return c.body(null, 200, { "x-goog-upload-status": "active" });
    const name = `files/${c.req.query("upload_id")}`;
    book.files.set(name, upload.content);
    return c.json({ file: { name, displayName: upload.displayName, mimeType: "application/jsonl", sizeBytes: String(new TextEncoder().encode(upload.content).byteLength), state: "ACTIVE" } }, 200, { "x-goog-upload-status": "final" });
  });
  app.get("/download/:version/files/:call", (c) => {
    const { model: id, method } = splitModelMethod(c.req.param("call"));
    const content = book.files.get(`files/${id}`);
    if (method !== "download" || content === undefined) return googleError(404, `File files/${id} not found.`);
    return c.body(content, 200, { "content-type": "application/octet-stream" });
  });
  app.get("/:version/batches/:id", async (c) => {
    const batch = book.batches.get(c.req.param("id"));
    if (!batch) return googleError(404, `Batch batches/${c.req.param("id")} not found.`);
    await book.advance(batch);
    return c.json(book.operation(batch));
  });
  app.post("/:version/batches/:call", (c) => {
    const { model: id, method } = splitModelMethod(c.req.param("call"));
    const batch = book.batches.get(id);
    if (!batch || method !== "cancel") return googleError(404, `Batch batches/${id} not found.`);
    if (["BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"].includes(batch.state)) batch.state = "BATCH_STATE_CANCELLED";
    return c.json({});
  });
  return app;
}
