import type { StreamRenderer } from "../dialects/stream-renderer";
import { GatewayError } from "../lib/errors";
import { encodeText } from "../lib/sse";
import type { StreamEvent } from "../schema/internal";

/** How long a failed stream stays open after its error event, so the event reaches the client before the reset. */
const ERROR_FLUSH_MS = 20;

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
  // Erroring a stream discards what is still queued, so the error event is sent first and the stream is
  // failed on the next pull, once the client has taken the event.
  let failure: GatewayError | undefined;
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: GatewayError) => {
    failure = error;
    controller.enqueue(encodeText(renderer.error(error)));
    end({ outcome: "error", error });
    rest.cancel().catch(() => undefined);
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const text = head.map(render).join("");
      if (text) controller.enqueue(encodeText(text));
    },
    async pull(controller) {
      if (failure) {
        // A breath for the runtime to flush the error event before the failure tears the response down.
        await new Promise((resolve) => setTimeout(resolve, ERROR_FLUSH_MS));
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
