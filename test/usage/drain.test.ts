import { describe, expect, it } from "vitest";
import { OpenAIChatStreamRenderer } from "../../src/dialects/openai-chat";
import { renderEventStream, type StreamEnd } from "../../src/pipeline/stream";
import type { StreamEvent } from "../../src/schema/internal";

/** An upstream of internal events, one every `delayMs`, ending with the provider's usage and `finish`. */
function upstream(textEvents: number, delayMs: number): ReadableStream<StreamEvent> {
  const events: StreamEvent[] = [
    { type: "start", id: "chatcmpl-1", model: "gpt-4o-mini" },
    ...Array.from({ length: textEvents }, (_, i): StreamEvent => ({ type: "text", delta: `word${i} ` })),
    { type: "usage", usage: { promptTokens: 11, completionTokens: textEvents * 2 } },
    { type: "finish", finishReason: "stop" },
  ];
  let index = 0;
  return new ReadableStream<StreamEvent>({
    async pull(controller) {
      if (index >= events.length) return controller.close();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      controller.enqueue(events[index++]!);
    },
  });
}

function render(source: ReadableStream<StreamEvent>) {
  const seen: StreamEvent[] = [];
  let cancelled = false;
  let resolveEnd!: (end: StreamEnd) => void;
  const ended = new Promise<StreamEnd>((resolve) => (resolveEnd = resolve));
  const reader = source.getReader();
  const body = renderEventStream([], reader, new OpenAIChatStreamRenderer({ includeUsage: false, fallbackModel: "m" }), {
    onEvent: (event) => seen.push(event),
    onEnd: resolveEnd,
    onCancel: () => (cancelled = true),
  });
  return { body, seen, ended, wasCancelled: () => cancelled };
}

describe("a stream the client abandons", () => {
  it("keeps reading the upstream in the background until the provider's final usage", async () => {
    const { body, seen, ended, wasCancelled } = render(upstream(20, 5));
    const client = body.getReader();
    await client.read();
    await client.cancel();
    expect(wasCancelled()).toBe(true);
    expect(await ended).toEqual({ outcome: "aborted", drained: true });
    expect(seen.find((e) => e.type === "usage")).toEqual({ type: "usage", usage: { promptTokens: 11, completionTokens: 40 } });
  });

  it("completes normally for a client that reads to the end", async () => {
    const { body, seen, ended } = render(upstream(3, 1));
    const text = await new Response(body).text();
    expect(text).toContain("data: [DONE]");
    expect(await ended).toEqual({ outcome: "complete" });
    expect(seen.at(-1)).toEqual({ type: "finish", finishReason: "stop" });
  });
});
