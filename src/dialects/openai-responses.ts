import { badRequest } from "../lib/errors";
import { randomId } from "../lib/ids";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, FinishReason, ReasoningBlock, TextPart, ToolChoice, ToolDefinition, Usage } from "../schema/internal";
import type { ResponsesInputItem, ResponsesMessagePart, ResponsesRequest, StoredItem, StoredPart } from "../schema/openai-responses";

/**
 * The OpenAI Responses dialect (/v1/responses): its items in, the internal form out, and an answer back as a
 * Response object. Conversations are lists of items (messages, function calls and their outputs, reasoning); the
 * gateway stores them in one normal form (`StoredItem`: ids and statuses filled in) so a later request can continue
 * from them (`previous_response_id`) on any provider.
 */

export const newItemId = (prefix: "msg_" | "fc_" | "fco_" | "rs_") => randomId(prefix, 40);

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** Reasoning goes back out in `encrypted_content` in this envelope: opaque to clients, readable only here. */
const REASONING_ENVELOPE = "sy1:";

export function encodeReasoning(block: ReasoningBlock): string {
  const bytes = new TextEncoder().encode(JSON.stringify(block));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return REASONING_ENVELOPE + btoa(binary);
}

/** A block this gateway encoded; undefined for anything else (another service's encrypted reasoning is dropped). */
export function decodeReasoning(content: string | null | undefined): ReasoningBlock | undefined {
  if (!content?.startsWith(REASONING_ENVELOPE)) return undefined;
  try {
    const binary = atob(content.slice(REASONING_ENVELOPE.length));
    const value: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    if (typeof value !== "object" || value === null) return undefined;
    const block = value as Record<string, unknown>;
    if (block.type === "thinking" && typeof block.text === "string") return { type: "thinking", text: block.text, ...(typeof block.signature === "string" ? { signature: block.signature } : {}) };
    if (block.type === "redacted" && typeof block.data === "string") return { type: "redacted", data: block.data };
  } catch {
    // not ours after all
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Input items → the stored normal form

function storedParts(parts: string | ResponsesMessagePart[], role: "user" | "assistant" | "system" | "developer", at: string): StoredPart[] {
  if (typeof parts === "string") return role === "assistant" ? [{ type: "output_text", text: parts, annotations: [] }] : [{ type: "input_text", text: parts }];
  return parts.map((part, index): StoredPart => {
    const param = `${at}.content[${index}]`;
    switch (part.type) {
      case "input_text":
      case "output_text":
        return role === "assistant" ? { type: "output_text", text: part.text, annotations: [] } : { type: "input_text", text: part.text };
      case "refusal":
        return role === "assistant" ? part : { type: "input_text", text: part.refusal };
      case "input_image":
        if (role !== "user") throw badRequest(`Images are only accepted in user messages, not in ${role} messages.`, `${param}.type`);
        if (!part.image_url) throw badRequest("File ids are not supported by this gateway: send the image as image_url (a URL or a data: URL).", `${param}.${part.file_id ? "file_id" : "image_url"}`);
        return { type: "input_image", image_url: part.image_url, detail: part.detail ?? "auto" };
      case "input_file":
      case "input_audio":
        throw badRequest(`Content parts of type "${part.type}" are not supported by this gateway.`, `${param}.type`);
    }
  });
}

function storedOutput(output: Extract<ResponsesInputItem, { type: "function_call_output" }>["output"], at: string): Extract<StoredItem, { type: "function_call_output" }>["output"] {
  if (typeof output === "string") return output;
  return output.map((part, index) => {
    if (part.type === "input_text") return part;
    if (part.type === "input_image" && part.image_url) return { type: "input_image" as const, image_url: part.image_url, detail: part.detail ?? "auto" };
    throw badRequest(`Function outputs may hold input_text and input_image (with image_url) parts only.`, `${at}.output[${index}].type`);
  });
}

/** The client's input as stored items, each with an id; items the gateway cannot serve are refused by name. */
export function normalizeInput(input: ResponsesRequest["input"]): StoredItem[] {
  if (typeof input === "string") return [{ type: "message", id: newItemId("msg_"), role: "user", status: "completed", content: [{ type: "input_text", text: input }] }];
  return input.map((item, index): StoredItem => {
    const at = `input[${index}]`;
    switch (item.type) {
      case "message":
        return { type: "message", id: item.id ?? newItemId("msg_"), role: item.role, status: "completed", content: storedParts(item.content, item.role, at) };
      case "function_call":
        return { type: "function_call", id: item.id ?? newItemId("fc_"), call_id: item.call_id, name: item.name, arguments: item.arguments, status: "completed" };
      case "function_call_output":
        return { type: "function_call_output", id: item.id ?? newItemId("fco_"), call_id: item.call_id, output: storedOutput(item.output, at), status: "completed" };
      case "reasoning":
        return { type: "reasoning", id: item.id ?? newItemId("rs_"), summary: item.summary, ...(item.encrypted_content ? { encrypted_content: item.encrypted_content } : {}) };
      case "unsupported":
        throw badRequest(`Input items of type "${item.itemType}" are not supported by this gateway; it serves message, function_call, function_call_output and reasoning items.`, `${at}.type`);
    }
  });
}

/**
 * Checks the conversation's tool-call order: every function_call_output answers exactly one earlier function_call,
 * and every call is answered before the next message (providers need a call's result right after it).
 * `history` comes from stored responses; positions in `input` are named in the error.
 */
export function checkToolCallOrder(history: readonly StoredItem[], input: readonly StoredItem[]): void {
  const pending = new Map<string, string>();
  const seen = new Set<string>();
  const items = [...history.map((item) => ({ item, at: null })), ...input.map((item, index) => ({ item, at: `input[${index}]` }))];
  for (const { item, at } of items) {
    if (item.type === "function_call") {
      if (seen.has(item.call_id)) throw badRequest(`Duplicate function_call with call_id "${item.call_id}".`, at ? `${at}.call_id` : "previous_response_id");
      seen.add(item.call_id);
      pending.set(item.call_id, item.name);
    } else if (item.type === "function_call_output") {
      if (!seen.has(item.call_id)) throw badRequest(`No function_call with call_id "${item.call_id}" comes before this function_call_output.`, at ? `${at}.call_id` : "previous_response_id");
      if (!pending.delete(item.call_id)) throw badRequest(`The function call "${item.call_id}" already has its output.`, at ? `${at}.call_id` : "previous_response_id");
    } else if (item.type === "message" && pending.size > 0) {
      const [callId] = pending.keys();
      throw badRequest(`No tool output found for function call "${callId}": its function_call_output must come before the next message.`, at ?? "previous_response_id");
    }
  }
  if (pending.size > 0) {
    const [callId] = pending.keys();
    throw badRequest(`No tool output found for function call "${callId}".`, "input");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Stored items → internal messages

function imagePart(url: string, detail: "auto" | "low" | "high" | "original"): ContentPart {
  const inline = DATA_URL.exec(url);
  if (inline) return { type: "image", source: { kind: "base64", mediaType: inline[1]!, data: inline[2]! } };
  return { type: "image", source: { kind: "url", url, ...(detail !== "original" ? { detail } : {}) } };
}

const contentOf = (parts: readonly StoredPart[]): ContentPart[] =>
  parts.map((part) => (part.type === "input_image" ? imagePart(part.image_url, part.detail) : { type: "text", text: part.type === "refusal" ? part.refusal : part.text }));

const textOnly = (parts: readonly ContentPart[]): TextPart[] => parts.filter((p): p is TextPart => p.type === "text");

/** The items as internal messages: calls join the assistant turn before them, reasoning the turn after it. */
export function messagesOf(items: readonly StoredItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  let reasoning: ReasoningBlock[] = [];
  const takeReasoning = () => {
    const taken = reasoning;
    reasoning = [];
    return taken.length > 0 ? { reasoning: taken } : {};
  };
  for (const item of items) {
    switch (item.type) {
      case "message":
        if (item.role === "system" || item.role === "developer") messages.push({ role: "system", content: textOnly(contentOf(item.content)) });
        else if (item.role === "user") messages.push({ role: "user", content: contentOf(item.content) });
        else messages.push({ role: "assistant", content: textOnly(contentOf(item.content)), toolCalls: [], ...takeReasoning() });
        break;
      case "function_call": {
        const call = { id: item.call_id, name: item.name, arguments: item.arguments };
        const last = messages.at(-1);
        if (last?.role === "assistant") {
          last.toolCalls.push(call);
          if (reasoning.length > 0) last.reasoning = [...(last.reasoning ?? []), ...reasoning];
          reasoning = [];
        } else messages.push({ role: "assistant", content: [], toolCalls: [call], ...takeReasoning() });
        break;
      }
      case "function_call_output":
        messages.push({ role: "tool", toolCallId: item.call_id, content: typeof item.output === "string" ? [{ type: "text", text: item.output }] : contentOf(item.output) });
        break;
      case "reasoning": {
        const block = decodeReasoning(item.encrypted_content);
        if (block) reasoning.push(block);
        break;
      }
    }
  }
  return messages;
}

// ---------------------------------------------------------------------------------------------------------------
// The request

type FunctionTool = Extract<NonNullable<ResponsesRequest["tools"]>[number], { type: "function" }>;

function toolsOf(body: ResponsesRequest): FunctionTool[] {
  return (body.tools ?? []).map((tool, index) => {
    if (tool.type === "function") return tool;
    throw badRequest(
      `The built-in tool "${tool.toolType}" cannot run here: it runs only inside OpenAI's own Responses API, and this gateway serves every provider through function tools. Define it as a function tool instead.`,
      `tools[${index}].type`,
      "unsupported_tool",
    );
  });
}

function toolChoiceOf(body: ResponsesRequest, tools: FunctionTool[]): { choice?: ToolChoice; allowed?: Set<string> } {
  const choice = body.tool_choice;
  if (choice === null || choice === undefined) return {};
  if (typeof choice === "string") return { choice };
  switch (choice.type) {
    case "function": {
      const name = choice.name;
      if (!tools.some((t) => t.name === name)) throw badRequest(`tool_choice names the function "${name}", which is not among the tools.`, "tool_choice.name");
      return { choice: { name } };
    }
    case "allowed_tools": {
      const allowed = new Set<string>();
      for (const [index, tool] of choice.tools.entries()) {
        if (tool.type !== "function" || !tool.name) throw badRequest('allowed_tools may list function tools only ({ "type": "function", "name": ... }).', `tool_choice.tools[${index}]`);
        allowed.add(tool.name);
      }
      return { choice: choice.mode, allowed };
    }
    case "unsupported":
      throw badRequest(`tool_choice of type "${choice.toolType}" names a built-in tool, which this gateway cannot run.`, "tool_choice.type", "unsupported_tool");
  }
}

const toolDefinition = (tool: FunctionTool): ToolDefinition => ({
  name: tool.name,
  ...(tool.description ? { description: tool.description } : {}),
  parameters: tool.parameters ?? { type: "object", properties: {} },
  ...(typeof tool.strict === "boolean" ? { strict: tool.strict } : {}),
});

/**
 * The request in the internal form: `instructions` first (they are never carried over from a previous response,
 * as at OpenAI), then the stored conversation it continues, then its own input.
 */
export function responsesToInternal(body: ResponsesRequest, conversation: readonly StoredItem[]): ChatRequest {
  const tools = toolsOf(body);
  const { choice, allowed } = toolChoiceOf(body, tools);
  const messages: ChatMessage[] = [];
  if (body.instructions) messages.push({ role: "system", content: [{ type: "text", text: body.instructions }] });
  messages.push(...messagesOf(conversation));
  const request: ChatRequest = { model: body.model, messages, stream: body.stream === true, includeUsage: true };
  const offered = allowed ? tools.filter((t) => allowed.has(t.name)) : tools;
  if (offered.length > 0) request.tools = offered.map(toolDefinition);
  if (choice !== undefined) request.toolChoice = choice;
  if (body.parallel_tool_calls != null) request.parallelToolCalls = body.parallel_tool_calls;
  const format = body.text?.format;
  if (format) {
    request.responseFormat =
      format.type === "json_schema"
        ? { type: "json_schema", name: format.name, schema: format.schema, ...(typeof format.strict === "boolean" ? { strict: format.strict } : {}), ...(format.description ? { description: format.description } : {}) }
        : { type: format.type };
  }
  if (body.max_output_tokens != null) request.maxTokens = body.max_output_tokens;
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.topP = body.top_p;
  if (body.reasoning?.effort != null) request.reasoningEffort = body.reasoning.effort;
  const user = body.safety_identifier ?? body.user;
  if (user) request.user = user;
  if (body.metadata) request.metadata = body.metadata;
  return request;
}

// ---------------------------------------------------------------------------------------------------------------
// The answer

/** The fields of a Response object that echo the request; the same for every state of one response. */
export type ResponseEcho = {
  id: string;
  createdAt: number;
  model: string;
  instructions: string | null;
  tools: Record<string, unknown>[];
  toolChoice: unknown;
  parallelToolCalls: boolean;
  text: Record<string, unknown>;
  reasoning: { effort: string | null; summary: string | null };
  maxOutputTokens: number | null;
  temperature: number;
  topP: number;
  metadata: Record<string, string>;
  store: boolean;
  previousResponseId: string | null;
  user: string | null;
  safetyIdentifier: string | null;
  truncation: "auto" | "disabled";
  /** Reasoning summaries go out only when asked for (`reasoning.summary`), as at OpenAI. */
  summaries: boolean;
};

export function echoOf(body: ResponsesRequest, id: string, createdAt: number, store: boolean): ResponseEcho {
  return {
    id,
    createdAt,
    model: body.model,
    instructions: body.instructions ?? null,
    tools: toolsOf(body).map((t) => ({ type: "function", name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null })),
    toolChoice: body.tool_choice ?? "auto",
    parallelToolCalls: body.parallel_tool_calls ?? true,
    text: { format: body.text?.format ?? { type: "text" }, verbosity: body.text?.verbosity ?? "medium" },
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    maxOutputTokens: body.max_output_tokens ?? null,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    metadata: body.metadata ?? {},
    store,
    previousResponseId: body.previous_response_id ?? null,
    user: body.user ?? null,
    safetyIdentifier: body.safety_identifier ?? null,
    truncation: body.truncation ?? "disabled",
    summaries: body.reasoning?.summary != null,
  };
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

export type ResponseState = {
  status: ResponseStatus;
  /** The model that answered, once known. */
  model?: string;
  output: StoredItem[];
  usage?: Usage;
  error?: { code: string; message: string };
  finishReason?: FinishReason;
};

export function usageToResponses(usage: Usage) {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** A finish that is not a clean stop makes the response `incomplete`, with OpenAI's reason. */
export function statusOf(finishReason: FinishReason): { status: "completed" | "incomplete"; reason: string | null } {
  if (finishReason === "length") return { status: "incomplete", reason: "max_output_tokens" };
  if (finishReason === "content_filter") return { status: "incomplete", reason: "content_filter" };
  return { status: "completed", reason: null };
}

export type ResponseObject = ReturnType<typeof responseObject>;

export function responseObject(echo: ResponseEcho, state: ResponseState) {
  const incomplete = state.finishReason && state.status === "incomplete" ? statusOf(state.finishReason).reason : null;
  const done = state.status !== "in_progress";
  return {
    id: echo.id,
    object: "response" as const,
    created_at: echo.createdAt,
    status: state.status,
    background: false,
    completed_at: state.status === "completed" ? Math.floor(Date.now() / 1000) : null,
    error: state.error ?? null,
    incomplete_details: incomplete ? { reason: incomplete } : null,
    instructions: echo.instructions,
    max_output_tokens: echo.maxOutputTokens,
    max_tool_calls: null,
    model: state.model || echo.model,
    output: state.output,
    parallel_tool_calls: echo.parallelToolCalls,
    previous_response_id: echo.previousResponseId,
    reasoning: echo.reasoning,
    safety_identifier: echo.safetyIdentifier,
    service_tier: "default",
    store: echo.store,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.toolChoice,
    tools: echo.tools,
    top_logprobs: 0,
    top_p: echo.topP,
    truncation: echo.truncation,
    usage: done && state.usage ? usageToResponses(state.usage) : null,
    user: echo.user,
    metadata: echo.metadata,
  };
}

export function reasoningItem(block: ReasoningBlock, summaries: boolean, id = newItemId("rs_")): StoredItem {
  const summary = summaries && block.type === "thinking" && block.text !== "" ? [{ type: "summary_text" as const, text: block.text }] : [];
  return { type: "reasoning", id, summary, encrypted_content: encodeReasoning(block) };
}

/** A complete answer's output items: reasoning, the message (when there is text or nothing else), the calls. */
export function outputItemsOf(result: ChatResult, summaries: boolean): StoredItem[] {
  const items: StoredItem[] = (result.reasoning ?? []).map((block) => reasoningItem(block, summaries));
  const status = result.finishReason === "length" ? "incomplete" : "completed";
  if (result.text !== "" || result.toolCalls.length === 0) {
    items.push({ type: "message", id: newItemId("msg_"), role: "assistant", status, content: [{ type: "output_text", text: result.text, annotations: [], logprobs: [] }] });
  }
  for (const call of result.toolCalls) items.push({ type: "function_call", id: newItemId("fc_"), call_id: call.id, name: call.name, arguments: call.arguments, status: "completed" });
  return items;
}

/** A complete answer as a Response object. */
export function renderResponse(echo: ResponseEcho, result: ChatResult): ResponseObject {
  return responseObject(echo, { status: statusOf(result.finishReason).status, model: result.model, output: outputItemsOf(result, echo.summaries), usage: result.usage, finishReason: result.finishReason });
}
