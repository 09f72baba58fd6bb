import type * as z from "zod";
import { GatewayError } from "../../lib/errors";
import { randomId } from "../../lib/ids";
import { BedrockErrorBodySchema, BedrockStreamEventSchemas } from "../../schema/bedrock";
import type { StreamEvent } from "../../schema/internal";
import { invalidUpstream } from "../http";
import type { UpstreamTarget } from "../types";
import { finishReasonFromBedrock, usageFromBedrock } from "./chat";
import { decodeEventStream, frameJson, type EventStreamFrame } from "./event-stream";

/** An `exception` or `error` frame: the stream failed after the response headers. */
function streamFailure(frame: EventStreamFrame, provider: string): GatewayError {
  const type = frame.headers[":exception-type"] ?? frame.headers[":error-code"] ?? "streamError";
  let message = frame.headers[":error-message"];
  if (message === undefined) {
    const body = BedrockErrorBodySchema.safeParse(frameJson(frame, provider));
    message = body.success ? body.data.message : "stream error";
  }
  const status = type === "throttlingException" ? 429 : type === "validationException" ? 400 : 502;
  return new GatewayError({ status, type: "upstream_error", code: type, provider, message: `${provider}: ${message}` });
}

/**
 * ConverseStream frames → internal events, as frames arrive. `metadata` (the usage) follows `messageStop`, so
 * the finish is held until it came, or until the stream ends cleanly after messageStop.
 */
function converseEventsToInternal(target: UpstreamTarget): TransformStream<EventStreamFrame, StreamEvent> {
  const provider = target.providerName;
  const toolIndexByBlock = new Map<number, number>();
  let finish: Extract<StreamEvent, { type: "finish" }> | undefined;
  let finished = false;
  const parse = <K extends keyof typeof BedrockStreamEventSchemas>(kind: K, frame: EventStreamFrame): z.infer<(typeof BedrockStreamEventSchemas)[K]> => {
    const parsed = BedrockStreamEventSchemas[kind].safeParse(frameJson(frame, provider));
    if (!parsed.success) throw invalidUpstream(provider, `unexpected ${kind} event`);
    return parsed.data as z.infer<(typeof BedrockStreamEventSchemas)[K]>;
  };
  return new TransformStream({
    transform(frame, controller) {
      const messageType = frame.headers[":message-type"];
      if (messageType === "exception" || messageType === "error") throw streamFailure(frame, provider);
      switch (frame.headers[":event-type"]) {
        case "messageStart":
          parse("messageStart", frame);
          controller.enqueue({ type: "start", id: randomId("bedrock-", 20), model: target.model });
          break;
        case "contentBlockStart": {
          const event = parse("contentBlockStart", frame);
          const toolUse = event.start?.toolUse;
          if (toolUse) {
            const index = toolIndexByBlock.size;
            toolIndexByBlock.set(event.contentBlockIndex, index);
            controller.enqueue({ type: "tool_call_start", index, id: toolUse.toolUseId, name: toolUse.name });
          }
          break;
        }
        case "contentBlockDelta": {
          const event = parse("contentBlockDelta", frame);
          if (event.delta.text) controller.enqueue({ type: "text", delta: event.delta.text });
          const thought = event.delta.reasoningContent;
          if (thought?.text) controller.enqueue({ type: "reasoning", delta: thought.text });
          if (thought?.signature) controller.enqueue({ type: "reasoning_signature", signature: thought.signature });
          if (thought?.redactedContent) controller.enqueue({ type: "reasoning_redacted", data: thought.redactedContent });
          const index = toolIndexByBlock.get(event.contentBlockIndex);
          if (event.delta.toolUse?.input && index !== undefined) controller.enqueue({ type: "tool_call_delta", index, argumentsDelta: event.delta.toolUse.input });
          break;
        }
        case "messageStop": {
          const event = parse("messageStop", frame);
          const stopSequence = event.additionalModelResponseFields?.stop_sequence;
          finish = { type: "finish", finishReason: finishReasonFromBedrock(event.stopReason), ...(stopSequence ? { stopSequence } : {}) };
          break;
        }
        case "metadata": {
          const event = parse("metadata", frame);
          controller.enqueue({ type: "usage", usage: usageFromBedrock(event.usage) });
          if (finish && !finished) {
            finished = true;
            controller.enqueue(finish);
          }
          break;
        }
        default:
          break; // contentBlockStop and event types added later carry nothing the gateway needs
      }
    },
    flush(controller) {
      if (finish && !finished) controller.enqueue(finish);
    },
  });
}

/** ConverseStream's body (an AWS binary event stream) → internal events, frame by frame as bytes arrive. */
export const parseConverseStream = (body: ReadableStream<Uint8Array>, target: UpstreamTarget): ReadableStream<StreamEvent> =>
  body.pipeThrough(decodeEventStream(target.providerName)).pipeThrough(converseEventsToInternal(target));
