import * as z from "zod";
import type { ChatRequest } from "./internal";

/**
 * What a provider target can serve (`supports` on adapters, presets and compatible servers' configs), and what a
 * request needs of it. Planning keeps only targets that have everything a request needs (src/routing/plan.ts).
 * JSON mode is no capability: every adapter sends `response_format` natively or as an instruction.
 */
export const SupportsSchema = z
  .strictObject({
    chat: z.boolean().describe("Chat completions and messages."),
    stream: z.boolean().describe("Streamed responses."),
    tools: z.boolean().describe("Tool (function) definitions in the request."),
    embeddings: z.boolean().describe("/v1/embeddings."),
    vision: z.boolean().describe("Images in messages."),
  })
  .describe("What the provider can serve; requests needing anything else go to another target or are refused with a 400.");
export type Supports = z.infer<typeof SupportsSchema>;
export type Capability = keyof Supports;

export const SUPPORTS_ALL: Supports = { chat: true, stream: true, tools: true, embeddings: true, vision: true };

/** What a chat request needs of its target: chat, plus streaming, tools and vision when it uses them. */
export function chatNeeds(request: ChatRequest): Capability[] {
  const needs: Capability[] = ["chat"];
  if (request.stream) needs.push("stream");
  if (request.tools?.length) needs.push("tools");
  if (request.messages.some((message) => message.role !== "system" && message.role !== "assistant" && message.content.some((part) => part.type === "image"))) needs.push("vision");
  return needs;
}

export const EMBEDDINGS_NEEDS: readonly Capability[] = ["embeddings"];
