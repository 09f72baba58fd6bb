import type { StreamRenderer } from "../dialects/stream-renderer";
import { GatewayError } from "../lib/errors";
import { encodeText } from "../lib/sse";
import type { StreamEvent } from "../schema/internal";

export type StreamEnd = { outcome: "complete" } | { outcome: "error"; error: GatewayError } | { outcome: "aborted"; drained: boolean };

/**
 * After the client leaves mid-stream the upstream is still read, in the background, up to this long: its last
 * events carry the provider's usage, which is what the provider bills. Below `waitUntil`'s 30 s grace period.
 */
export const ABORTED_STREAM_DRAIN_MS = 20_000;

export type StreamHooks = {
  /** Sees every event (usage accounting, cache capture) before it is rendered. */
  onEvent?: (event: StreamEvent) => void;
  /** Called exactly once: the stream completed, failed, or the client went away (after draining the upstream). */
  onEnd: (end: StreamEnd) => void;
  /** The client went away; called at once, before the upstream is drained. */
  onCancel?: () => void;
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
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: GatewayError) => {
    controller.enqueue(encodeText(renderer.error(error)));
    end({ outcome: "error", error });
    controller.error(error);
    rest.cancel().catch(() => undefined);
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const text = head.map(render).join("");
      if (text) controller.enqueue(encodeText(text));
    },
    async pull(controller) {
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
      hooks.onCancel?.();
      // Not awaited: the client is gone; the settle step (in waitUntil) waits for `onEnd`.
      void drainAfterCancel(rest, hooks).then((drained) => end({ outcome: "aborted", drained }));
    },
  });
}

/**
 * Reads the rest of an upstream stream the client abandoned, feeding events to `onEvent` (usage) without
 * rendering them. Resolves true when the upstream finished, false when it broke or the bound was hit.
 */
async function drainAfterCancel(rest: ReadableStreamDefaultReader<StreamEvent>, hooks: StreamHooks): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ABORTED_STREAM_DRAIN_MS)));
  const drain = async (): Promise<boolean> => {
    for (;;) {
      const { done, value } = await rest.read();
      if (done) return false;
      hooks.onEvent?.(value);
      if (value.type === "finish") return true;
    }
  };
  try {
    return await Promise.race([drain().catch(() => false), bound]);
  } finally {
    clearTimeout(timer);
    rest.cancel().catch(() => undefined);
  }
}
