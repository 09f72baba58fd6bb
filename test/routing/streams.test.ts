import { describe, expect, it } from "vitest";
import { callGateway, scriptFaults } from "../helpers";
import { BACKUP, PRIMARY, chat, countRequests, readUntilEnd, routingWorkspace } from "./setup";

const route = { routes: { r: { strategy: "fallback" as const, retry: { attempts: 2, backoff: { initialMs: 10 } }, targets: [PRIMARY, BACKUP] } } };

describe("streams and fallback", () => {
  it("falls back when a stream breaks before its first event", async () => {
    const ws = await routingWorkspace(route);
    await scriptFaults(ws.primary, [{ dropAfterEvents: 0, drop: "abort", times: 2 }]);
    const res = await chat(ws, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(res.headers.get("x-switchyard-attempts")).toBe("3");
    const { text, failed } = await readUntilEnd(res);
    expect(failed).toBe(false);
    expect(text).toContain("data: [DONE]");
  });

  it("reports an OpenAI stream cut after the first byte as an error event and a failed stream, never retried", async () => {
    const ws = await routingWorkspace(route);
    // Paced, so the first events have left the simulator before it cuts the connection.
    await scriptFaults(ws.primary, [{ dropAfterEvents: 3, drop: "abort", chunkDelayMs: 30 }]);
    const res = await chat(ws, { stream: true });
    expect(res.status).toBe(200);
    const { text, failed } = await readUntilEnd(res);
    expect(failed).toBe(true);
    expect(text).toContain('"content":"Hello');
    expect(text).not.toContain("[DONE]");
    const frames = text.split("\n\n").filter((frame) => frame.startsWith("data: "));
    const last = JSON.parse(frames.at(-1)!.slice(6)) as { error: { type: string; code: string } };
    expect(last.error).toMatchObject({ type: "upstream_error", code: "stream_interrupted" });
    expect(await countRequests(ws.primary)).toBe(1);
    expect(await countRequests(ws.backup)).toBe(0);
  });

  it("a stream that ends early without its final event is an error too, not a clean end", async () => {
    const ws = await routingWorkspace(route);
    await scriptFaults(ws.primary, [{ dropAfterEvents: 3, drop: "truncate" }]);
    const { text, failed } = await readUntilEnd(await chat(ws, { stream: true }));
    expect(failed).toBe(true);
    expect(text).toContain('"stream_interrupted"');
    expect(text).not.toContain("[DONE]");
  });

  it("reports an Anthropic-dialect stream cut as an `error` event and a failed stream", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "fallback", targets: [BACKUP, PRIMARY] } } });
    await scriptFaults(ws.backup, [{ dropAfterEvents: 4, drop: "abort", chunkDelayMs: 30 }]);
    const res = await callGateway(ws.key, "/v1/messages", { model: "r", max_tokens: 100, stream: true, messages: [{ role: "user", content: "Hi" }] });
    expect(res.status).toBe(200);
    const { text, failed } = await readUntilEnd(res);
    expect(failed).toBe(true);
    expect(text).toContain("event: message_start");
    expect(text).not.toContain("event: message_stop");
    const errorFrame = text.split("\n\n").find((frame) => frame.startsWith("event: error"));
    expect(errorFrame).toBeDefined();
    expect(JSON.parse(errorFrame!.split("\ndata: ")[1]!)).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(await countRequests(ws.primary)).toBe(0);
  });
});
