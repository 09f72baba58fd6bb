import { GatewayError } from "../../lib/errors";
import { decodeSSE } from "../../lib/sse";
import { AnthropicStreamEventSchema } from "../../schema/anthropic";
import type { StreamEvent } from "../../schema/internal";
import { streamEventJson } from "../http";
import { finishReasonFromAnthropic, usageFromAnthropic } from "./chat";

/** Anthropic stream events (already decoded from SSE, or from another framing) → internal events. */
export function anthropicEventsToInternal(providerName: string): TransformStream<unknown, StreamEvent> {
  const toolIndexByBlock = new Map<number, number>();
  let stopReason: string | null | undefined;
  let stopSequence: string | null | undefined;
  return new TransformStream({
    transform(json, controller) {
      const parsed = AnthropicStreamEventSchema.safeParse(json);
      if (!parsed.success) return; // unknown event types are skipped, as Anthropic's versioning policy asks
      const event = parsed.data;
      switch (event.type) {
        case "message_start":
          controller.enqueue({ type: "start", id: event.message.id, model: event.message.model, usage: usageFromAnthropic(event.message.usage) });
          break;
        case "content_block_start":
          if (event.content_block.type === "tool_use") {
            const index = toolIndexByBlock.size;
            toolIndexByBlock.set(event.index, index);
            controller.enqueue({ type: "tool_call_start", index, id: event.content_block.id ?? `toolu_${index}`, name: event.content_block.name ?? "" });
          } else if (event.content_block.type === "text" && event.content_block.text) {
            controller.enqueue({ type: "text", delta: event.content_block.text });
          } else if (event.content_block.type === "redacted_thinking" && typeof event.content_block.data === "string") {
            controller.enqueue({ type: "reasoning_redacted", data: event.content_block.data });
          }
          break;
        case "content_block_delta":
          if (event.delta.type === "text_delta" && event.delta.text) controller.enqueue({ type: "text", delta: event.delta.text });
          if (event.delta.type === "thinking_delta" && event.delta.thinking) controller.enqueue({ type: "reasoning", delta: event.delta.thinking });
          if (event.delta.type === "signature_delta" && event.delta.signature) controller.enqueue({ type: "reasoning_signature", signature: event.delta.signature });
          if (event.delta.type === "input_json_delta" && event.delta.partial_json) {
            const index = toolIndexByBlock.get(event.index);
            if (index !== undefined) controller.enqueue({ type: "tool_call_delta", index, argumentsDelta: event.delta.partial_json });
          }
          break;
        case "message_delta":
          stopReason = event.delta.stop_reason;
          stopSequence = event.delta.stop_sequence;
          controller.enqueue({ type: "usage", usage: usageFromAnthropic(event.usage) });
          break;
        case "message_stop":
          controller.enqueue({ type: "finish", finishReason: finishReasonFromAnthropic(stopReason), ...(stopSequence ? { stopSequence } : {}) });
          break;
        case "error":
          throw new GatewayError({
            status: event.error.type === "overloaded_error" ? 529 : 502,
            type: "upstream_error",
            code: event.error.type,
            provider: providerName,
            message: `${providerName}: ${event.error.message}`,
          });
        default:
          break;
      }
    },
  });
}

export function parseAnthropicChatStream(body: ReadableStream<Uint8Array>, providerName: string): ReadableStream<StreamEvent> {
  return decodeSSE(body)
    .pipeThrough(
      new TransformStream<{ data: string }, unknown>({
        transform(message, controller) {
          controller.enqueue(streamEventJson(message.data, providerName));
        },
      }),
    )
    .pipeThrough(anthropicEventsToInternal(providerName));
}
