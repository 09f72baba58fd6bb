import { describe, expect, it } from "vitest";
import { lineRequestOf } from "../../batches/input";
import { renderOpenAIChat } from "../../dialects/openai-chat";
import { anthropicBatchRequest, anthropicResultOutcome } from "./batch";

/** The translation between OpenAI's batch JSONL and Anthropic's Message Batches, without I/O. */

describe("OpenAI batch line → Anthropic batch request", () => {
  it("translates the body with the provider's model, max_tokens defaulted, never streaming", () => {
    const line = lineRequestOf("/v1/chat/completions", { model: "smart", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], temperature: 0.2 }, 1);
    expect(anthropicBatchRequest({ key: "r0", line }, "claude-sonnet-4-5")).toEqual({
      custom_id: "r0",
      params: { model: "claude-sonnet-4-5", system: "Be brief.", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }], max_tokens: 4096, temperature: 0.2 },
    });
  });

  it("keeps an Anthropic-dialect line (/v1/messages) as it was, model rewritten", () => {
    const line = lineRequestOf("/v1/messages", { model: "claude", max_tokens: 50, messages: [{ role: "user", content: "Hi" }], stop_sequences: ["END"] }, 1);
    expect(anthropicBatchRequest({ key: "r7", line }, "claude-haiku-4-5").params).toMatchObject({ model: "claude-haiku-4-5", max_tokens: 50, stop_sequences: ["END"] });
  });
});

describe("Anthropic batch result → internal outcome → OpenAI response body", () => {
  const message = { id: "msg_1", type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [{ type: "text", text: "Hello" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 10, output_tokens: 3 } };

  it("reads a succeeded line as a chat result, rendered as OpenAI's chat.completion", () => {
    const outcome = anthropicResultOutcome({ custom_id: "r0", result: { type: "succeeded", message } }, "anthropic");
    expect(outcome).toMatchObject({ key: "r0", ok: true, kind: "chat" });
    if (!outcome.ok || outcome.kind !== "chat") throw new Error("expected a chat result");
    expect(renderOpenAIChat(outcome.result)).toMatchObject({ object: "chat.completion", model: "claude-sonnet-4-5", choices: [{ message: { content: "Hello" }, finish_reason: "stop" }], usage: { prompt_tokens: 10, completion_tokens: 3 } });
  });

  it("reads an errored line with the HTTP status its error type stands for", () => {
    expect(anthropicResultOutcome({ custom_id: "r1", result: { type: "errored", error: { type: "error", error: { type: "invalid_request_error", message: "max_tokens: too large" } } } }, "anthropic")).toEqual({
      key: "r1",
      ok: false,
      status: 400,
      error: { message: "max_tokens: too large", type: "invalid_request_error", code: "invalid_request_error" },
    });
  });

  it("reads canceled and expired lines as never run", () => {
    expect(anthropicResultOutcome({ custom_id: "r2", result: { type: "canceled" } }, "anthropic")).toEqual({ key: "r2", ok: false, skipped: "cancelled" });
    expect(anthropicResultOutcome({ custom_id: "r3", result: { type: "expired" } }, "anthropic")).toEqual({ key: "r3", ok: false, skipped: "expired" });
  });

  it("refuses a line that is not Anthropic's result shape", () => {
    expect(() => anthropicResultOutcome({ id: "x" }, "anthropic")).toThrow(/unexpected batch result line/);
  });
});
