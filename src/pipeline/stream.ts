import type { StreamRenderer } from "../dialects/stream-renderer";
import { GatewayError } from "../lib/errors";
import { encodeText } from "../lib/sse";
import type { StreamEvent } from "../schema/internal";

/** How long the in-stream error event gets to reach the client before the stream itself is failed. */
const ERROR_EVENT_GRACE_MS = 50;

export type StreamEnd = { outcome: "complete" } | { outcome: "error"; error: GatewayError } | { outcome: "aborted" };

export type StreamHooks = {
  /** Sees every event (usage accounting, cache capture) before it is rendered. */
  onEvent?: (event: StreamEvent) => void;
  /** Called exactly once: the stream completed, failed, or the client went away. */
  onEnd: (end: StreamEnd) => void;
};

const asGatewayError = (error: unknown, provider?: string): GatewayError =>
  error instanceof GatewayError
    ? error
    : new GatewayError({
        status: 502,
        type: "upstream_error",
        code: "stream_interrupted",
        ...(provider ? { provider } : {}),
        message: `${provider ? `${provider}: ` : ""}the upstream stream broke off before it was complete.`,
      });

/**
 * Renders an upstream event stream in the client's dialect as events arrive. A stream is only complete when the
 * adapter emitted `finish`; an upstream that ends early or errors is reported to the client as the dialect's
 * error event, and then the response stream itself fails — never a clean end.
 */
export function renderEventStream(
  head: readonly StreamEvent[],
  rest: ReadableStreamDefaultReader<StreamEvent>,
  renderer: StreamRenderer,
  hooks: StreamHooks,
  provider?: string,
): ReadableStream<Uint8Array> {
  let finished = false;
  let ended = false;
  /** Set once the error event is queued: the stream fails on the next pull, after the client has read it. */
  let failure: GatewayError | undefined;
  const end = (result: StreamEnd) => {
    if (ended) return;
    ended = true;
    hooks.onEnd(result);
  };
  const render = (event: StreamEvent): string => {
    hooks.onEvent?.(event);
    if (event.type === "finish") finished = true;
    return renderer.event(event);
  };
  // Erroring a stream discards whatever is still queued downstream of it, so the error event is queued
  // first and the stream is failed on a later pull, after a grace period that lets the event reach the client.
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: GatewayError) => {
    controller.enqueue(encodeText(renderer.error(error)));
    end({ outcome: "error", error });
    failure = error;
    rest.cancel().catch(() => undefined);
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const text = head.map(render).join("");
      if (text) controller.enqueue(encodeText(text));
    },
    async pull(controller) {
      if (failure) {
        await new Promise((resolve) => setTimeout(resolve, ERROR_EVENT_GRACE_MS));
        controller.error(failure);
        return;
      }
      try {
        // Keep reading until there is something to send: some events (usage) render to nothing.
        for (;;) {
          if (finished) {
            end({ outcome: "complete" });
            controller.close();
            rest.cancel().catch(() => undefined);
            return;
          }
          const { done, value } = await rest.read();
          if (done) {
            fail(controller, asGatewayError(undefined, provider));
            return;
          }
          const text = render(value);
          if (text) {
            controller.enqueue(encodeText(text));
            return;
          }
        }
      } catch (error) {
        fail(controller, asGatewayError(error, provider));
      }
    },
    cancel() {
      end({ outcome: "aborted" });
      return rest.cancel();
    },
  });
}
