import type { ChatMessage } from "../schema/internal";

export type Turn<B> = { role: "user" | "assistant"; content: B[] };

/**
 * The conversation as strictly alternating user/assistant turns, as Anthropic's Messages API and Bedrock's
 * Converse want them: system messages are left out (both take them apart), tool results become user content,
 * and consecutive messages of one side merge into one turn.
 */
export function alternatingTurns<B>(messages: readonly ChatMessage[], blocksOf: (message: Exclude<ChatMessage, { role: "system" }>) => B[]): Turn<B>[] {
  const turns: Turn<B>[] = [];
  for (const message of messages) {
    if (message.role === "system") continue;
    const role = message.role === "assistant" ? "assistant" : "user";
    const last = turns.at(-1);
    if (last && last.role === role) last.content.push(...blocksOf(message));
    else turns.push({ role, content: blocksOf(message) });
  }
  return turns;
}
