import * as z from "zod";
import { openAIChatToInternal } from "../dialects/openai-chat";
import { GatewayError } from "../lib/errors";
import type { ChatMessage, ChatRequest } from "../schema/internal";
import { LineProblem, type ExampleKind, type TrainingExample } from "../schema/training-example";
import { OpenAIChatRequestSchema, OpenAIMessageSchema } from "../schema/openai";

/**
 * The training data clients upload (purpose `fine-tune`): OpenAI's fine-tuning formats, whatever provider tunes.
 * Each line is one example, parsed here into the gateway's internal chat form (src/schema/training-example.ts); each provider's converter
 * (src/providers/<name>/tuning-dataset.ts) turns it into that provider's line or refuses it with a `LineProblem`
 * naming the field. Pure: no I/O.
 *
 * - chat: `{"messages": [...], "tools"?: [...], "parallel_tool_calls"?: bool}` — assistant messages may carry
 *   `"weight": 0 | 1` (0: context only, not trained on);
 * - preference (DPO): `{"input": {"messages", "tools"?}, "preferred_output": [assistant], "non_preferred_output": [assistant]}`;
 * - completion (legacy prompt/completion models): `{"prompt": "...", "completion": "..."}`.
 */

const ToolsSchema = OpenAIChatRequestSchema.shape.tools;

const ChatLineSchema = z.strictObject({
  messages: z.array(z.unknown()).min(1, "at least one message is required"),
  tools: ToolsSchema,
  parallel_tool_calls: z.boolean().optional(),
  functions: z.unknown().optional(),
});
const PreferenceLineSchema = z.strictObject({
  input: z.strictObject({ messages: z.array(z.unknown()).min(1, "at least one message is required"), tools: ToolsSchema, parallel_tool_calls: z.boolean().optional() }),
  preferred_output: z.array(z.unknown()).length(1, "exactly one assistant message"),
  non_preferred_output: z.array(z.unknown()).length(1, "exactly one assistant message"),
});
const CompletionLineSchema = z.strictObject({ prompt: z.string(), completion: z.string().min(1, "must not be empty") });

const WeightSchema = z.union([z.literal(0), z.literal(1)], { message: "weight is 0 or 1" });

const pathOf = (path: readonly PropertyKey[]) =>
  path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`), "");

function problemOf(error: z.ZodError, prefix: readonly PropertyKey[] = []): LineProblem {
  const issue = error.issues[0]!;
  const path = issue.code === "unrecognized_keys" ? [...prefix, ...issue.path, issue.keys[0]!] : [...prefix, ...issue.path];
  const field = pathOf(path);
  return new LineProblem(field || null, issue.code === "unrecognized_keys" ? `unknown field "${issue.keys[0]}"` : issue.message);
}

type OpenAIMessage = z.infer<typeof OpenAIMessageSchema>;

/** The messages of a line, checked; `at` names them in errors (`messages`, `input.messages`). */
function messagesOf(values: unknown[], at: string): { messages: OpenAIMessage[]; weights: (0 | 1 | undefined)[] } {
  const weights: (0 | 1 | undefined)[] = [];
  const messages = values.map((value, index) => {
    const parsed = OpenAIMessageSchema.safeParse(value);
    if (!parsed.success) throw problemOf(parsed.error, [at, index]);
    const weight = typeof value === "object" && value !== null && "weight" in value ? value.weight : undefined;
    if (weight !== undefined) {
      if (parsed.data.role !== "assistant") throw new LineProblem(`${at}[${index}].weight`, "only assistant messages take a weight");
      if (!WeightSchema.safeParse(weight).success) throw new LineProblem(`${at}[${index}].weight`, "weight is 0 or 1");
    }
    weights.push(weight as 0 | 1 | undefined);
    return parsed.data;
  });
  return { messages, weights };
}

/** Messages and tools in the internal form, through the same parser as chat requests. */
function chatRequest(messages: OpenAIMessage[], tools: z.infer<typeof ToolsSchema>, parallel: boolean | undefined): ChatRequest {
  try {
    return openAIChatToInternal({ model: "training", messages, ...(tools ? { tools } : {}), ...(parallel !== undefined ? { parallel_tool_calls: parallel } : {}) });
  } catch (error) {
    if (error instanceof GatewayError) throw new LineProblem(error.param, error.message);
    throw error;
  }
}

/** Parses one line (its text) as a training example; throws a LineProblem. */
export function parseExample(text: string): TrainingExample {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LineProblem(null, "not valid JSON (training files are JSONL: one JSON object per line)");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new LineProblem(null, "not a JSON object");
  const raw = value as Record<string, unknown>;
  if ("prompt" in raw || "completion" in raw) {
    const parsed = CompletionLineSchema.safeParse(raw);
    if (!parsed.success) throw problemOf(parsed.error);
    return { kind: "completion", raw, prompt: parsed.data.prompt, completion: parsed.data.completion };
  }
  if ("input" in raw || "preferred_output" in raw) {
    const parsed = PreferenceLineSchema.safeParse(raw);
    if (!parsed.success) throw problemOf(parsed.error);
    const input = messagesOf(parsed.data.input.messages, "input.messages");
    const [preferred, nonPreferred] = (["preferred_output", "non_preferred_output"] as const).map((field) => {
      const { messages } = messagesOf(parsed.data[field], field);
      if (messages[0]!.role !== "assistant") throw new LineProblem(`${field}[0].role`, 'must be "assistant"');
      return chatRequest(messages, undefined, undefined).messages;
    }) as [ChatMessage[], ChatMessage[]];
    return { kind: "preference", raw, input: chatRequest(input.messages, parsed.data.input.tools, parsed.data.input.parallel_tool_calls), preferred, nonPreferred };
  }
  const parsed = ChatLineSchema.safeParse(raw);
  if (!parsed.success) throw problemOf(parsed.error);
  if (parsed.data.functions !== undefined) throw new LineProblem("functions", "the legacy `functions` field is not supported; use `tools`");
  const { messages, weights } = messagesOf(parsed.data.messages, "messages");
  if (!messages.some((m) => m.role === "assistant")) throw new LineProblem("messages", "an example needs at least one assistant message to learn from");
  return { kind: "chat", raw, request: chatRequest(messages, parsed.data.tools, parsed.data.parallel_tool_calls), weights };
}

/** The example kinds a tuning method trains on. */
export function kindsFor(method: "supervised" | "dpo", completionModel: boolean): readonly ExampleKind[] {
  if (method === "dpo") return ["preference"];
  return completionModel ? ["completion"] : ["chat"];
}
