import { GatewayError } from "../../lib/errors";
import { decodeSSE } from "../../lib/sse";
import { GeminiResponseSchema, GoogleErrorBodySchema } from "../../schema/gemini";
import type { StreamEvent } from "../../schema/internal";
import { invalidUpstream, streamEventJson } from "../http";
import { callId, callIdPrefix } from "./call-ids";
import { finishReasonFromGemini, piecesOf, responseIdOf, usageFromGemini } from "./chat";

/**
 * Gemini SSE chunks → internal events, each mapped as it arrives. Function calls arrive whole, so each becomes a
 * start and one arguments delta. `finish` is emitted when the upstream stream ends, and only if a finishReason
 * (or a prompt block) was seen: a stream cut short never looks complete.
 */
export function parseGeminiChatStream(body: ReadableStream<Uint8Array>, providerName: string, model: string): ReadableStream<StreamEvent> {
  let started = false;
  let prefix = "";
  let toolCalls = 0;
  let finishReason: string | undefined;
  let blocked = false;
  return decodeSSE(body).pipeThrough(
    new TransformStream<{ data: string }, StreamEvent>({
      transform(message, controller) {
        const json = streamEventJson(message.data, providerName);
        const error = GoogleErrorBodySchema.safeParse(json);
        if (error.success) {
          const { code, message: text, status } = error.data.error;
          throw new GatewayError({ status: code === 429 ? 429 : 502, type: "upstream_error", code: status ?? "upstream_stream_error", provider: providerName, message: `${providerName}: ${text ?? "stream error"}` });
        }
        const parsed = GeminiResponseSchema.safeParse(json);
        if (!parsed.success) throw invalidUpstream(providerName, "unexpected stream chunk");
        const chunk = parsed.data;
        if (!started) {
          started = true;
          prefix = callIdPrefix(chunk.responseId);
          controller.enqueue({ type: "start", id: responseIdOf(chunk), model: chunk.modelVersion ?? model });
        }
        for (const piece of piecesOf(chunk)) {
          if ("text" in piece) {
            controller.enqueue({ type: "text", delta: piece.text });
          } else {
            const index = toolCalls++;
            controller.enqueue({ type: "tool_call_start", index, id: callId(prefix, index, piece.call), name: piece.call.name });
            controller.enqueue({ type: "tool_call_delta", index, argumentsDelta: piece.call.arguments });
          }
        }
        const reason = chunk.candidates?.[0]?.finishReason;
        if (reason !== undefined && reason !== "FINISH_REASON_UNSPECIFIED") finishReason = reason;
        if (chunk.promptFeedback?.blockReason !== undefined && !chunk.candidates?.length) blocked = true;
        if (chunk.usageMetadata) controller.enqueue({ type: "usage", usage: usageFromGemini(chunk.usageMetadata) });
      },
      flush(controller) {
        if (blocked) controller.enqueue({ type: "finish", finishReason: "content_filter" });
        else if (finishReason !== undefined) controller.enqueue({ type: "finish", finishReason: finishReasonFromGemini(finishReason, toolCalls > 0) });
      },
    }),
  );
}
