import { describe, expect, it } from "vitest";
import { toBedrockTuningLine } from "../providers/bedrock/tuning-dataset";
import { convertForOpenAI } from "../providers/openai/fine-tuning";
import { toVertexTuningLine } from "../providers/vertex/tuning-dataset";
import { LineProblem, type TrainingExample } from "../schema/training-example";
import { parseExample } from "./dataset";

/**
 * The training data conversions, line by line: OpenAI's fine-tuning formats (what clients upload) parsed, then
 * written in Vertex AI's and Bedrock's dataset formats — or refused with the field named.
 */

/** Lines in OpenAI's documented fine-tuning formats (chat, multi-turn with weights, tool calls, preference, prompt/completion). */
const CHAT = JSON.stringify({
  messages: [
    { role: "system", content: "You answer questions about the Switchyard gateway in one sentence." },
    { role: "user", content: "Where do usage events go?" },
    { role: "assistant", content: "Through a Queue into D1." },
  ],
});
const MULTI_TURN = JSON.stringify({
  messages: [
    { role: "system", content: "Answer briefly." },
    { role: "user", content: "What caches responses?" },
    { role: "assistant", content: "KV and the Cache API.", weight: 0 },
    { role: "user", content: "And rate limits?" },
    { role: "assistant", content: "A Durable Object per key.", weight: 1 },
  ],
});
const TOOLS = JSON.stringify({
  messages: [
    { role: "user", content: "What is the weather in Paris?" },
    { role: "assistant", tool_calls: [{ id: "call_id", type: "function", function: { name: "get_current_weather", arguments: '{"location": "Paris, France", "format": "celsius"}' } }] },
    { role: "tool", tool_call_id: "call_id", content: "21.0" },
    { role: "assistant", content: "It is 21 degrees Celsius in Paris." },
  ],
  tools: [
    {
      type: "function",
      function: {
        name: "get_current_weather",
        description: "Get the current weather",
        parameters: { type: "object", properties: { location: { type: "string" }, format: { type: "string", enum: ["celsius", "fahrenheit"] } }, required: ["location", "format"] },
      },
    },
  ],
  parallel_tool_calls: false,
});
const PREFERENCE = JSON.stringify({
  input: { messages: [{ role: "user", content: "Summarise the README in a line." }], tools: [], parallel_tool_calls: true },
  preferred_output: [{ role: "assistant", content: "An AI gateway on Cloudflare Workers." }],
  non_preferred_output: [{ role: "assistant", content: "It is a document." }],
});
const COMPLETION = JSON.stringify({ prompt: "Gateway: Switchyard ->", completion: " an AI gateway on Cloudflare Workers." });

const problemOf = (run: () => unknown): { field: string | null; message: string } => {
  try {
    run();
  } catch (error) {
    if (error instanceof LineProblem) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error("expected a LineProblem");
};

describe("parseExample (OpenAI's formats)", () => {
  it("reads chat, weighted multi-turn, tool-calling, preference and prompt/completion lines", () => {
    const chat = parseExample(CHAT) as Extract<TrainingExample, { kind: "chat" }>;
    expect(chat.kind).toBe("chat");
    expect(chat.request.messages.map((m) => m.role)).toEqual(["system", "user", "assistant"]);
    expect((parseExample(MULTI_TURN) as typeof chat).weights).toEqual([undefined, undefined, 0, undefined, 1]);
    const tools = parseExample(TOOLS) as typeof chat;
    expect(tools.request.tools?.[0]).toMatchObject({ name: "get_current_weather", description: "Get the current weather" });
    expect(tools.request.messages[1]).toMatchObject({ role: "assistant", toolCalls: [{ id: "call_id", name: "get_current_weather" }] });
    expect(parseExample(PREFERENCE)).toMatchObject({ kind: "preference", preferred: [{ role: "assistant" }], nonPreferred: [{ role: "assistant" }] });
    expect(parseExample(COMPLETION)).toMatchObject({ kind: "completion", prompt: "Gateway: Switchyard ->", completion: " an AI gateway on Cloudflare Workers." });
  });

  it("names the field of a bad line", () => {
    expect(problemOf(() => parseExample("{nope"))).toEqual({ field: null, message: "not valid JSON (training files are JSONL: one JSON object per line)" });
    expect(problemOf(() => parseExample("[1]"))).toEqual({ field: null, message: "not a JSON object" });
    expect(problemOf(() => parseExample(JSON.stringify({ messages: [{ role: "user", content: "hi" }] })))).toEqual({ field: "messages", message: "an example needs at least one assistant message to learn from" });
    expect(problemOf(() => parseExample(JSON.stringify({ messages: [{ role: "user", content: "hi", weight: 1 }, { role: "assistant", content: "yo" }] }))).field).toBe("messages[0].weight");
    expect(problemOf(() => parseExample(JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "yo", weight: 2 }] })))).toEqual({ field: "messages[1].weight", message: "weight is 0 or 1" });
    expect(problemOf(() => parseExample(JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }], extra: 1 }))).field).toBe("extra");
    expect(problemOf(() => parseExample(JSON.stringify({ prompt: "a", completion: "" }))).field).toBe("completion");
    expect(problemOf(() => parseExample(JSON.stringify({ input: { messages: [{ role: "user", content: "a" }] }, preferred_output: [{ role: "user", content: "b" }], non_preferred_output: [{ role: "assistant", content: "c" }] }))).field).toBe("preferred_output[0].role");
  });
});

describe("OpenAI and Azure OpenAI: the line as written", () => {
  it("passes valid lines on unchanged and refuses roles outside the training format", () => {
    for (const line of [CHAT, MULTI_TURN, TOOLS, PREFERENCE, COMPLETION]) expect(convertForOpenAI(parseExample(line))).toEqual(JSON.parse(line));
    expect(problemOf(() => convertForOpenAI(parseExample(JSON.stringify({ messages: [{ role: "developer", content: "a" }, { role: "user", content: "b" }, { role: "assistant", content: "c" }] }))))).toEqual({
      field: "messages[0].role",
      message: `role "developer" is not in OpenAI's training format (system, user, assistant, tool)`,
    });
  });
});

describe("Vertex AI: Gemini supervised tuning lines", () => {
  it("writes systemInstruction and contents with user and model roles", () => {
    expect(toVertexTuningLine(parseExample(CHAT), "gemini-2.0-flash-001")).toEqual({
      systemInstruction: { role: "system", parts: [{ text: "You answer questions about the Switchyard gateway in one sentence." }] },
      contents: [
        { role: "user", parts: [{ text: "Where do usage events go?" }] },
        { role: "model", parts: [{ text: "Through a Queue into D1." }] },
      ],
    });
  });

  it("writes tool calls as functionCall / functionResponse parts and the tools as functionDeclarations", () => {
    expect(toVertexTuningLine(parseExample(TOOLS), "gemini-2.5-flash")).toEqual({
      contents: [
        { role: "user", parts: [{ text: "What is the weather in Paris?" }] },
        { role: "model", parts: [{ functionCall: { name: "get_current_weather", args: { location: "Paris, France", format: "celsius" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "get_current_weather", response: { output: 21 } } }] },
        { role: "model", parts: [{ text: "It is 21 degrees Celsius in Paris." }] },
      ],
      tools: [
        {
          functionDeclarations: [
            {
              name: "get_current_weather",
              description: "Get the current weather",
              parameters: { type: "object", properties: { location: { type: "string" }, format: { type: "string", enum: ["celsius", "fahrenheit"] } }, required: ["location", "format"] },
            },
          ],
        },
      ],
    });
  });

  it("takes images as Cloud Storage URIs", () => {
    const line = JSON.stringify({ messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: "gs://bucket/cat.png" } }] }, { role: "assistant", content: "A cat." }] });
    expect((toVertexTuningLine(parseExample(line), "gemini-2.5-flash").contents as { parts: unknown[] }[])[0]!.parts).toEqual([{ text: "What is this?" }, { fileData: { mimeType: "image/png", fileUri: "gs://bucket/cat.png" } }]);
  });

  it("refuses what Vertex's format cannot say, naming the field", () => {
    expect(problemOf(() => toVertexTuningLine(parseExample(MULTI_TURN), "gemini-2.5-flash")).field).toBe("messages[2].weight");
    expect(problemOf(() => toVertexTuningLine(parseExample(PREFERENCE), "gemini-2.5-flash")).message).toContain("chat examples");
    const web = JSON.stringify({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }] }, { role: "assistant", content: "A cat." }] });
    expect(problemOf(() => toVertexTuningLine(parseExample(web), "gemini-2.5-flash")).field).toBe("messages[0].content[0]");
    const unanswered = JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }] });
    expect(problemOf(() => toVertexTuningLine(parseExample(unanswered), "gemini-2.5-flash")).field).toBe("messages");
    const orphan = JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "tool", tool_call_id: "x", content: "1" }, { role: "assistant", content: "b" }] });
    expect(problemOf(() => toVertexTuningLine(parseExample(orphan), "gemini-2.5-flash")).message).toContain('"x" does not answer any tool call');
  });
});

describe("Bedrock: customization dataset lines", () => {
  it("writes Amazon Nova's bedrock-conversation-2024 format", () => {
    expect(toBedrockTuningLine(parseExample(CHAT), "bedrock-conversation")).toEqual({
      schemaVersion: "bedrock-conversation-2024",
      system: [{ text: "You answer questions about the Switchyard gateway in one sentence." }],
      messages: [
        { role: "user", content: [{ text: "Where do usage events go?" }] },
        { role: "assistant", content: [{ text: "Through a Queue into D1." }] },
      ],
    });
  });

  it("writes Claude 3 Haiku's system string and text messages", () => {
    const line = JSON.stringify({ messages: [{ role: "system", content: "Answer briefly." }, { role: "user", content: "What caches responses?" }, { role: "assistant", content: "KV and the Cache API." }, { role: "user", content: "And limits?" }, { role: "assistant", content: "A Durable Object." }] });
    expect(toBedrockTuningLine(parseExample(line), "claude-messages")).toEqual({
      system: "Answer briefly.",
      messages: [
        { role: "user", content: "What caches responses?" },
        { role: "assistant", content: "KV and the Cache API." },
        { role: "user", content: "And limits?" },
        { role: "assistant", content: "A Durable Object." },
      ],
    });
  });

  it("writes prompt/completion from a prompt/completion line or a single-turn chat (system first)", () => {
    expect(toBedrockTuningLine(parseExample(COMPLETION), "prompt-completion")).toEqual({ prompt: "Gateway: Switchyard ->", completion: " an AI gateway on Cloudflare Workers." });
    expect(toBedrockTuningLine(parseExample(CHAT), "prompt-completion")).toEqual({ prompt: "You answer questions about the Switchyard gateway in one sentence.\n\nWhere do usage events go?", completion: "Through a Queue into D1." });
  });

  it("refuses tool calls, weights, multi-turn prompt/completion and preference lines, naming the field", () => {
    expect(problemOf(() => toBedrockTuningLine(parseExample(TOOLS), "bedrock-conversation")).field).toBe("tools");
    expect(problemOf(() => toBedrockTuningLine(parseExample(MULTI_TURN), "bedrock-conversation")).field).toBe("messages[2].weight");
    const twoTurns = JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }, { role: "assistant", content: "d" }] });
    expect(problemOf(() => toBedrockTuningLine(parseExample(twoTurns), "prompt-completion")).field).toBe("messages");
    expect(problemOf(() => toBedrockTuningLine(parseExample(PREFERENCE), "claude-messages")).message).toBe("Bedrock fine-tuning takes no preference (DPO) examples");
    expect(problemOf(() => toBedrockTuningLine(parseExample(COMPLETION), "bedrock-conversation")).message).toContain('{"messages": [...]}');
    const image = JSON.stringify({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }] }, { role: "assistant", content: "An image." }] });
    expect(problemOf(() => toBedrockTuningLine(parseExample(image), "bedrock-conversation")).field).toBe("messages[0].content[0]");
  });
});
