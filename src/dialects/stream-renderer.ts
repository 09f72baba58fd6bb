import type { GatewayError } from "../lib/errors";
import type { StreamEvent } from "../schema/internal";

/** Renders internal stream events as one client dialect's SSE text. One instance per response. */
export interface StreamRenderer {
  /** SSE text for one event ("" when the dialect has nothing to say for it). */
  event(event: StreamEvent): string;
  /**
   * SSE text after the last event of a complete stream, once the dialect's own work at the end is done (the
   * Responses API stores the response before it tells the client the response completed). Never rejects.
   */
  end?(): Promise<string>;
  /** The dialect's in-stream error event, written before the stream is failed. */
  error(error: GatewayError): string;
}
