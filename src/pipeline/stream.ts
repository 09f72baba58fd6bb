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

/**
 * Erroring a stream discards whatever is still queued in it, so after the error event is queued the stream is
 * failed only after this grace period, which lets the event reach the client first.
 */
const ERROR_EVENT_GRACE_MS = 50;

export type StreamHooks = {
  /** Sees every event (usage accounting, cache capture) before it is rendered. */
  onEvent?: (event: StreamEvent) => void;
  /** Called exactly once: the stream completed, failed, or the client went away (after draining the upstream). */
  onEnd: (end: StreamEnd) => void;
  /** The client went away; called at once, before the upstream is drained. */
  onCancel?: () => void;
  /** Applied to a failure before it is reported anywhere (client, hooks, runtime log): scrubs provider secrets. */
  redact?: (error: GatewayError) => GatewayError;
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

/** Rendered bytes the gateway holds for a client that reads slower than the upstream writes. */
const CLIENT_BUFFER_BYTES = 1024 * 1024;
/** A client that has not read for this long while its buffer is full is treated as gone. */
const STALLED_CLIENT_MS = 10_000;

const TIMED_OUT = Symbol("timed out");

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - Date.now()))));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Renders an upstream event stream in the client's dialect as events arrive. A stream is only complete when the
 * adapter emitted `finish`; an upstream that ends early or errors is reported to the client as the dialect's
 * error event, and then the response stream itself fails — never a clean end.
 *
 * The upstream is read by the gateway's own pump, not by the client's pulls: when the client leaves (its cancel
 * arrives, or it stops reading with a full buffer) the pump keeps reading — without sending — up to
 * ABORTED_STREAM_DRAIN_MS, so the provider's final usage is still seen. A client that reads slowly gets
 * backpressure: the pump waits while CLIENT_BUFFER_BYTES are unread.
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
  let clientGoneAt: number | undefined;
  let wakePump: (() => void) | undefined;

  const end = (result: StreamEnd) => {
    if (ended) return;
    ended = true;
    hooks.onEnd(result);
  };
  const leave = () => {
    if (clientGoneAt !== undefined) return;
    clientGoneAt = Date.now();
    hooks.onCancel?.();
    wakePump?.();
  };
  const render = (event: StreamEvent): string => {
    hooks.onEvent?.(event);
    if (event.type === "finish") finished = true;
    return renderer.event(event);
  };

  async function pump(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const send = (text: string) => {
      if (clientGoneAt !== undefined || text === "") return;
      try {
        controller.enqueue(encodeText(text));
      } catch {
        leave();
      }
    };
    const fail = async (failure: GatewayError) => {
      const error = hooks.redact ? hooks.redact(failure) : failure;
      send(renderer.error(error));
      end({ outcome: "error", error });
      if (clientGoneAt !== undefined) return;
      await new Promise((resolve) => setTimeout(resolve, ERROR_EVENT_GRACE_MS));
      controller.error(error);
    };
    try {
      send(head.map(render).join(""));
      for (;;) {
        if (finished) {
          if (clientGoneAt === undefined) {
            if (renderer.end) send(await renderer.end());
            end({ outcome: "complete" });
            controller.close();
          } else end({ outcome: "aborted", drained: true });
          return;
        }
        if (clientGoneAt === undefined && (controller.desiredSize ?? 1) <= 0) {
          const woken = await withDeadline(new Promise<void>((resolve) => (wakePump = resolve)), Date.now() + STALLED_CLIENT_MS);
          wakePump = undefined;
          if (woken === TIMED_OUT) {
            // Whoever is still connected gets a failed stream rather than a silent stall; usage is still drained.
            controller.error(new GatewayError({ status: 408, type: "timeout_error", code: "client_stalled", message: "The client stopped reading the stream." }));
            leave();
          }
          continue;
        }
        const next = clientGoneAt === undefined ? await rest.read() : await withDeadline(rest.read(), clientGoneAt + ABORTED_STREAM_DRAIN_MS);
        if (next === TIMED_OUT) {
          end({ outcome: "aborted", drained: false });
          return;
        }
        if (next.done) {
          if (clientGoneAt === undefined) await fail(asGatewayError(undefined, provider));
          else end({ outcome: "aborted", drained: false });
          return;
        }
        send(render(next.value));
      }
    } catch (error) {
      if (clientGoneAt === undefined) await fail(asGatewayError(error, provider));
      else end({ outcome: "aborted", drained: false });
    } finally {
      rest.cancel().catch(() => undefined);
    }
  }

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // Not awaited: the pump runs for the life of the upstream stream; the settle step waits for `onEnd`.
        void pump(controller);
      },
      pull() {
        wakePump?.();
      },
      cancel() {
        leave();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: CLIENT_BUFFER_BYTES }),
  );
}
