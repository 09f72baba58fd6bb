import { GatewayError } from "../lib/errors";
import type { ChatRequest, ChatResult, EmbeddingsRequest, EmbeddingsResult, StreamEvent } from "../schema/internal";
import type { AttemptControl } from "./deadline";
import type { AttemptLog } from "../settle/record";
import { UpstreamFailure, failureFromResponse, networkFailure, type PreparedTarget } from "./upstream";
import { byteStream } from "../lib/byte-stream";

export type ChatSuccess =
  | { kind: "complete"; result: ChatResult; prepared: PreparedTarget }
  | { kind: "stream"; head: StreamEvent[]; rest: ReadableStreamDefaultReader<StreamEvent>; prepared: PreparedTarget };

function streamFailure(prepared: PreparedTarget, error: unknown): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  const provider = prepared.target.provider;
  const message = error instanceof GatewayError ? error.message : `${provider}: the stream broke off before its first event.`;
  return new UpstreamFailure({ status: 502, type: "upstream_error", code: "stream_interrupted", provider, message, outcome: "stream_error", upstreamStatus: null });
}

async function send(prepared: PreparedTarget, upstreamRequest: Request, control: AttemptControl): Promise<Response> {
  let response: Response;
  try {
    response = await prepared.fetch(upstreamRequest, { signal: control.signal });
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw networkFailure(prepared, error);
  }
  control.onHeaders();
  return response;
}

async function readJson(prepared: PreparedTarget, response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    throw new UpstreamFailure({ status: 502, type: "upstream_error", code: "invalid_upstream_response", provider: prepared.target.provider, message: `${prepared.target.provider}: the response body is not valid JSON.`, outcome: "stream_error", upstreamStatus: response.status });
  }
}

/**
 * One upstream attempt of a chat request: build, send, and read up to the point where the gateway can commit
 * to it: the whole body, or — for streams — the first event, so a stream that fails before it still counts as
 * a failed attempt that can be retried or fallen back.
 */
export async function attemptChat(prepared: PreparedTarget, request: ChatRequest, log: AttemptLog, control: AttemptControl): Promise<ChatSuccess> {
  const upstreamRequest = await prepared.adapter.buildChatRequest(request, prepared.upstream);
  const startedAt = performance.now();
  try {
    const response = await send(prepared, upstreamRequest, control);
    if (!request.stream) control.onFirstByte();
    if (!response.ok) throw await failureFromResponse(prepared, response);
    if (!request.stream) {
      const result = prepared.adapter.parseChatResponse(await readJson(prepared, response), prepared.upstream);
      return { kind: "complete", result, prepared };
    }
    if (!response.body) throw streamFailure(prepared, undefined);
    const rest = prepared.adapter.parseChatStream(byteStream(response.body), prepared.upstream).getReader();
    let first: ReadableStreamReadResult<StreamEvent>;
    try {
      first = await rest.read();
    } catch (error) {
      throw streamFailure(prepared, error);
    }
    if (first.done) throw streamFailure(prepared, undefined);
    control.onFirstByte();
    return { kind: "stream", head: [first.value], rest, prepared };
  } finally {
    log.upstreamMs += performance.now() - startedAt;
  }
}

export async function attemptEmbeddings(prepared: PreparedTarget, request: EmbeddingsRequest, log: AttemptLog, control: AttemptControl): Promise<EmbeddingsResult> {
  const { adapter } = prepared;
  if (!adapter.buildEmbeddingsRequest || !adapter.parseEmbeddingsResponse) {
    throw new GatewayError({ status: 400, type: "invalid_request_error", code: "unsupported_operation", param: "model", message: `Provider "${prepared.target.provider}" (${prepared.config.type}) does not offer embeddings.` });
  }
  const built = await adapter.buildEmbeddingsRequest(request, prepared.upstream);
  const startedAt = performance.now();
  const call = async (upstreamRequest: Request): Promise<unknown> => {
    const response = await send(prepared, upstreamRequest, control);
    control.onFirstByte();
    if (!response.ok) throw await failureFromResponse(prepared, response);
    return readJson(prepared, response);
  };
  try {
    const body = Array.isArray(built) ? await Promise.all(built.map(call)) : await call(built);
    return adapter.parseEmbeddingsResponse(body, prepared.upstream);
  } finally {
    log.upstreamMs += performance.now() - startedAt;
  }
}
