import type { ChatResult } from "../schema/internal";
import type { StreamRenderer } from "./stream-renderer";

/**
 * How a client dialect shows a chat answer: a complete result as its JSON body, a stream through a renderer (one
 * per response). Chat Completions and Messages are chosen by path; the Responses API brings its own per request,
 * as its answers echo the request and are stored.
 */
export type Presentation = {
  body(result: ChatResult): unknown;
  renderer(): StreamRenderer;
};
