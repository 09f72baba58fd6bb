import { GatewayError } from "../../lib/errors";
import { decodeSSE } from "../../lib/sse";
import { OpenAIChatChunkSchema, OpenAIErrorBodySchema } from "../../schema/openai";
import type { FinishReason, StreamEvent } from "../../schema/internal";
import { invalidUpstream, streamEventJson } from "../http";
import { finishReasonFromOpenAI, usageFromOpenAI } from "./chat";

/** OpenAI chunks → internal events. `finish` is held until `[DONE]`, so a stream cut before it never looks complete. */
export function parseOpenAIChatStream(body: ReadableStream<Uint8Array>, providerName: string): ReadableStream<StreamEvent> {
  let started = false;
  let finishReason: FinishReason | undefined;
  const toolIndexes = new Set<number>();
  return decodeSSE(body).pipeThrough(
    new TransformStream({
      transform(message, controller) {
        if (message.data === "[DONE]") {
          controller.enqueue({ type: "finish", finishReason: finishReason ?? "stop" });
          return;
        }
        const json = streamEventJson(message.data, providerName);
        const error = OpenAIErrorBodySchema.safeParse(json);
        if (error.success) {
          throw new GatewayError({ status: 502, type: "upstream_error", code: "upstream_stream_error", provider: providerName, message: `${providerName}: ${error.data.error.message ?? "stream error"}` });
        }
        const chunk = OpenAIChatChunkSchema.safeParse(json);
        if (!chunk.success) throw invalidUpstream(providerName, "unexpected stream chunk");
        if (!started) {
          // Azure opens with a chunk that only carries prompt_filter_results (no id, model or choices).
          if (chunk.data.choices.length === 0 && !chunk.data.usage && !chunk.data.id) return;
          started = true;
          controller.enqueue({ type: "start", id: chunk.data.id ?? "", model: chunk.data.model ?? "" });
        }
        for (const choice of chunk.data.choices) {
          const delta = choice.delta;
          if (delta?.content) controller.enqueue({ type: "text", delta: delta.content });
          if (delta?.refusal) controller.enqueue({ type: "text", delta: delta.refusal });
          for (const call of delta?.tool_calls ?? []) {
            if (!toolIndexes.has(call.index)) {
              toolIndexes.add(call.index);
              controller.enqueue({ type: "tool_call_start", index: call.index, id: call.id ?? `call_${call.index}`, name: call.function?.name ?? "" });
            }
            if (call.function?.arguments) controller.enqueue({ type: "tool_call_delta", index: call.index, argumentsDelta: call.function.arguments });
          }
          if (choice.finish_reason) finishReason = finishReasonFromOpenAI(choice.finish_reason);
        }
        if (chunk.data.usage) controller.enqueue({ type: "usage", usage: usageFromOpenAI(chunk.data.usage) });
      },
    }),
  );
}
