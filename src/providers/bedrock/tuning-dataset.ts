import { LineProblem, textOf, type ChatExample, type TrainingExample } from "../../schema/training-example";
import type { ChatMessage } from "../../schema/internal";
import { alternatingTurns } from "../turns";

/**
 * A training example as a line of a Bedrock model customization dataset. Bedrock's format depends on the base
 * model (https://docs.aws.amazon.com/bedrock/latest/userguide/preparing-text-data.html, read 2026-12-01):
 *
 * - `bedrock-conversation` (Amazon Nova): `{"schemaVersion": "bedrock-conversation-2024", "system": [{"text"}],
 *   "messages": [{"role": "user" | "assistant", "content": [{"text"}]}]}`;
 * - `claude-messages` (Claude 3 Haiku): `{"system": "...", "messages": [{"role", "content": "..."}]}`, at least two
 *   messages, user first, assistant last, alternating, no other keys;
 * - `prompt-completion` (Llama 3.1, Titan Text): `{"prompt": "...", "completion": "..."}`, from a prompt/completion
 *   line or a single-turn chat example (its system prompt leads the prompt).
 *
 * Text only: tool calls and images are refused with the line's field named.
 */

export type BedrockDatasetFormat = "bedrock-conversation" | "claude-messages" | "prompt-completion";

function textOnly(example: ChatExample): void {
  const weighted = example.weights.findIndex((w) => w === 0);
  if (weighted >= 0) throw new LineProblem(`messages[${weighted}].weight`, "Bedrock trains on every assistant turn: it has no per-message weight");
  if (example.request.tools?.length) throw new LineProblem("tools", "Bedrock fine-tuning datasets hold text conversations: tools are not part of them");
  example.request.messages.forEach((message, index) => {
    if (message.role === "tool") throw new LineProblem(`messages[${index}].role`, 'Bedrock fine-tuning datasets hold text turns: "tool" messages are not part of them');
    if (message.role === "assistant" && message.toolCalls.length > 0) throw new LineProblem(`messages[${index}].tool_calls`, "Bedrock fine-tuning datasets hold text turns: tool calls are not part of them");
    const image = message.content.findIndex((part) => part.type !== "text");
    if (image >= 0) throw new LineProblem(`messages[${index}].content[${image}]`, "this Bedrock dataset format takes text only");
  });
}

type TextTurn = { role: "user" | "assistant"; text: string };

/** The conversation as alternating text turns (user first, assistant last) and its system prompt. */
function textTurns(example: ChatExample): { system: string; turns: TextTurn[] } {
  textOnly(example);
  const system = example.request.messages.filter((m) => m.role === "system").map(textOf).join("\n");
  const turns = alternatingTurns(example.request.messages, (message: Exclude<ChatMessage, { role: "system" }>) => [textOf(message)]).map((turn) => ({ role: turn.role, text: turn.content.join("\n") }));
  if (turns.length < 2 || turns[0]!.role !== "user") throw new LineProblem("messages", "the conversation must start with a user message and hold an assistant answer");
  if (turns.at(-1)!.role !== "assistant") throw new LineProblem("messages", "the last message must be the assistant's (the answer Bedrock learns)");
  const empty = turns.findIndex((turn) => turn.text.trim() === "");
  if (empty >= 0) throw new LineProblem("messages", `turn ${empty + 1} has no text`);
  return { system, turns };
}

export function toBedrockTuningLine(example: TrainingExample, format: BedrockDatasetFormat): Record<string, unknown> {
  if (example.kind === "preference") throw new LineProblem(null, "Bedrock fine-tuning takes no preference (DPO) examples");
  if (format === "prompt-completion") {
    if (example.kind === "completion") return { prompt: example.prompt, completion: example.completion };
    const { system, turns } = textTurns(example);
    if (turns.length !== 2) throw new LineProblem("messages", "this model is tuned on single-turn examples: one user message and the assistant's answer (or {\"prompt\", \"completion\"})");
    return { prompt: system ? `${system}\n\n${turns[0]!.text}` : turns[0]!.text, completion: turns[1]!.text };
  }
  if (example.kind === "completion") throw new LineProblem(null, 'this model is tuned on conversations: write the example as {"messages": [...]}');
  const { system, turns } = textTurns(example);
  if (format === "claude-messages") return { ...(system ? { system } : {}), messages: turns.map((turn) => ({ role: turn.role, content: turn.text })) };
  return {
    schemaVersion: "bedrock-conversation-2024",
    ...(system ? { system: [{ text: system }] } : {}),
    messages: turns.map((turn) => ({ role: turn.role, content: [{ text: turn.text }] })),
  };
}
