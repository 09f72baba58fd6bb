import type { ChatMessage, ChatRequest } from "./internal";

/**
 * A training example of a fine-tuning dataset in the gateway's internal form, as src/fine-tuning/dataset.ts parses
 * it from OpenAI's formats and each provider's converter (src/providers/<name>/tuning-dataset.ts) writes it in
 * the provider's; and the problem a converter reports for a line it cannot write, naming the field.
 */

export type ChatExample = {
  kind: "chat";
  /** The line as the client wrote it (OpenAI's format), for providers that take it as it is. */
  raw: Record<string, unknown>;
  /** The conversation and its tools in the internal form. */
  request: ChatRequest;
  /** Per message: its `weight` (assistant messages only), or undefined. */
  weights: (0 | 1 | undefined)[];
};
export type PreferenceExample = { kind: "preference"; raw: Record<string, unknown>; input: ChatRequest; preferred: ChatMessage[]; nonPreferred: ChatMessage[] };
export type CompletionExample = { kind: "completion"; raw: Record<string, unknown>; prompt: string; completion: string };
export type TrainingExample = ChatExample | PreferenceExample | CompletionExample;
export type ExampleKind = TrainingExample["kind"];

/** Why a line cannot be used; `field` is the path inside the line (`messages[2].content`). */
export class LineProblem extends Error {
  constructor(
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** The text of a message's parts (images and other parts left out). */
export const textOf = (message: ChatMessage): string => message.content.map((part) => (part.type === "text" ? part.text : "")).join("");
