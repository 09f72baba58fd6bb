import { LineProblem, type TrainingExample } from "../../schema/training-example";
import { GatewayError } from "../../lib/errors";
import { chatRequestToGemini } from "../gemini/chat";

/**
 * A training example as a line of Vertex AI's supervised tuning dataset for Gemini models:
 * `{"systemInstruction": {"parts": [...]}, "contents": [{"role": "user" | "model", "parts": [...]}], "tools"?: [...]}`,
 * through the same Gemini translation as chat requests (tool calls become functionCall / functionResponse parts).
 * https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare (read 2026-12-01)
 */

type Content = { role: string; parts: Record<string, unknown>[] };

export function toVertexTuningLine(example: TrainingExample, baseModel: string): Record<string, unknown> {
  if (example.kind !== "chat") throw new LineProblem(null, "Vertex AI's supervised tuning takes chat examples ({\"messages\": [...]})");
  const weighted = example.weights.findIndex((w) => w === 0);
  if (weighted >= 0) throw new LineProblem(`messages[${weighted}].weight`, "Vertex AI trains on every model turn: it has no per-message weight (remove `weight: 0` or the message)");
  example.request.messages.forEach((message, index) => {
    if (message.role !== "user" && message.role !== "tool") return;
    message.content.forEach((part, partIndex) => {
      if (part.type !== "image") return;
      if (part.source.kind !== "url" || !part.source.url.startsWith("gs://")) {
        throw new LineProblem(`messages[${index}].content[${partIndex}]`, "Vertex AI tuning datasets take images as Cloud Storage URIs (gs://bucket/object), not inline data or web URLs");
      }
    });
  });
  let body: Record<string, unknown>;
  try {
    body = chatRequestToGemini(example.request, baseModel);
  } catch (error) {
    if (error instanceof GatewayError) throw new LineProblem(error.param, error.message);
    throw error;
  }
  const contents = body.contents as Content[];
  if (contents.length === 0 || contents[0]!.role !== "user") throw new LineProblem("messages", "the conversation must start with a user message");
  if (contents.at(-1)!.role !== "model") throw new LineProblem("messages", "the last message must be the assistant's: Vertex AI learns the model turns of each example");
  return {
    ...(body.systemInstruction ? { systemInstruction: { role: "system", ...body.systemInstruction } } : {}),
    contents,
    ...(body.tools ? { tools: body.tools } : {}),
  };
}
