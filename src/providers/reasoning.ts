import type { ChatMessage, ChatRequest, ReasoningBlock, ReasoningEffort } from "../schema/internal";

/**
 * Reasoning effort as Claude's extended thinking (Anthropic, and Claude on Bedrock and Vertex AI): a token budget
 * per effort, and the rules Claude sets for it.
 */

const CLAUDE_THINKING_BUDGET: Record<Exclude<ReasoningEffort, "none">, number> = { minimal: 1024, low: 2048, medium: 8192, high: 16384, xhigh: 24576, max: 32000 };

/** Claude's smallest thinking budget. */
export const MIN_CLAUDE_THINKING_BUDGET = 1024;

export type ClaudeThinking = { budgetTokens: number; maxTokens: number };

/** A block Claude accepts back: signed thinking, or redacted thinking. */
export const isSignedReasoning = (block: ReasoningBlock): boolean => block.type === "redacted" || block.signature !== undefined;

/** The conversation continues a tool-use turn (it ends in tool results) whose signed thinking the history lost. */
function continuesUnsignedToolTurn(messages: readonly ChatMessage[]): boolean {
  const conversation = messages.filter((m) => m.role !== "system");
  if (conversation.at(-1)?.role !== "tool") return false;
  const turn = conversation.findLast((m): m is Extract<ChatMessage, { role: "assistant" }> => m.role === "assistant");
  return !turn?.reasoning?.some(isSignedReasoning);
}

/**
 * Extended thinking for a Claude request, or undefined when it stays off: no effort or `none`; a forced tool choice
 * (Claude refuses thinking with one); a limit below the smallest budget; or a tool-use turn continued without its
 * signed thinking blocks (Claude refuses those with thinking on, so the turn is finished without). `max_tokens`
 * counts thinking too, as OpenAI's limits count reasoning: the budget fits inside the client's limit, and without
 * one it is added to the default.
 */
export function claudeThinking(request: ChatRequest, defaultMaxTokens: number): ClaudeThinking | undefined {
  const effort = request.reasoningEffort;
  if (effort === undefined || effort === "none") return undefined;
  if (request.tools?.length && (request.toolChoice === "required" || typeof request.toolChoice === "object")) return undefined;
  if (continuesUnsignedToolTurn(request.messages)) return undefined;
  const wanted = CLAUDE_THINKING_BUDGET[effort];
  if (request.maxTokens === undefined) return { budgetTokens: wanted, maxTokens: wanted + defaultMaxTokens };
  const budgetTokens = Math.min(wanted, request.maxTokens - 1);
  return budgetTokens < MIN_CLAUDE_THINKING_BUDGET ? undefined : { budgetTokens, maxTokens: request.maxTokens };
}
