import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callGateway, gateway, newWorkspace, readSSE, scriptFaults, simulatorProviders, upstreamRequests } from "../helpers";
import { uniqueId, usageRowFor } from "./usage-helpers";

const PROMPT = "Please write a long and thoughtful answer about streams";

describe("usage of streamed requests", () => {
  it("asks upstream for the usage chunk without sending it to a client that did not ask", async () => {
    const ws = await newWorkspace();
    const id = uniqueId("req");
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: PROMPT }] }, { "x-request-id": id });
    const frames = await readSSE(res);
    const chunks = frames.filter((f) => f.data !== "[DONE]").map((f) => JSON.parse(f.data) as Record<string, unknown>);
    // What the client receives is unchanged: no usage field, no usage-only chunk.
    expect(chunks.every((chunk) => !("usage" in chunk) || chunk.usage === null)).toBe(true);
    expect(chunks.every((chunk) => Array.isArray(chunk.choices) && chunk.choices.length === 1)).toBe(true);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.stream_options).toEqual({ include_usage: true });
    // ...and the usage event still carries the provider's numbers.
    const row = await usageRowFor(id);
    expect(row.usage_estimated).toBe(0);
    expect(row.completion_tokens).toBeGreaterThan(0);
    expect(row.prompt_tokens).toBeGreaterThan(0);
  });

  it("a stream the client abandons still records the provider's full usage (drained in the background)", async () => {
    const ws = await newWorkspace();
    const body = { model: "openai/gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: PROMPT }] };
    // Reference: the same request read to the end.
    const fullId = uniqueId("req");
    const full = await readSSE(await callGateway(ws.key, "/v1/chat/completions", body, { "x-request-id": fullId }));
    const fullUsage = JSON.parse(full.at(-2)!.data).usage as { prompt_tokens: number; completion_tokens: number };

    await scriptFaults(ws.scenario, [{ chunkDelayMs: 30 }]);
    const abortedId = uniqueId("req");
    const client = new AbortController();
    const res = await gateway("/v1/chat/completions", { method: "POST", signal: client.signal, headers: { authorization: `Bearer ${ws.key}`, "content-type": "application/json", "x-request-id": abortedId }, body: JSON.stringify(body) });
    const reader = res.body!.getReader();
    await reader.read();
    client.abort();
    await reader.cancel().catch(() => undefined);

    const row = await usageRowFor(abortedId);
    // The local runtime does not always pass the client's cancel on to the Worker before the upstream is done;
    // either way the usage is the provider's own, not an estimate. (The pump itself: test/usage/drain.test.ts.)
    expect(["aborted", "success"]).toContain(row.outcome);
    expect(row.usage_estimated).toBe(0);
    expect(row.prompt_tokens).toBe(fullUsage.prompt_tokens);
    expect(row.completion_tokens).toBe(fullUsage.completion_tokens);
    expect(row.cost_usd).toBeCloseTo((fullUsage.prompt_tokens * 0.15 + fullUsage.completion_tokens * 0.6) / 1e6, 15);
  });

  it("a stream that breaks upstream before its usage is counted as an upward estimate, marked", async () => {
    const ws = await newWorkspace();
    const body = { model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: PROMPT }] };
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 5, drop: "abort", chunkDelayMs: 20 }]);
    const id = uniqueId("req");
    await (await callGateway(ws.key, "/v1/chat/completions", body, { "x-request-id": id })).text().catch(() => "");
    const row = await usageRowFor(id);
    expect(row.outcome).toBe("error");
    expect(row.usage_estimated).toBe(1);
    expect(row.prompt_tokens).toBeGreaterThan(0);
    expect(row.completion_tokens).toBeGreaterThan(0);
  });
});

describe("body logging", () => {
  const SECRET_PROMPT = "my confidential prompt 8f3a";

  it("stores no prompt or completion by default", async () => {
    const ws = await newWorkspace();
    const id = uniqueId("req");
    await (await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: SECRET_PROMPT }] }, { "x-request-id": id })).text();
    const row = await usageRowFor(id);
    expect(JSON.stringify(row)).not.toContain("confidential");
    const bodies = await env.USAGE_DB.prepare("SELECT COUNT(*) AS n FROM usage_bodies WHERE request_id = ?").bind(row.request_id).first<{ n: number }>();
    expect(bodies?.n).toBe(0);
  });

  it("stores capped prompt and completion when the workspace turns logging.bodies on", async () => {
    const ws = await newWorkspace((scenario) => ({ providers: simulatorProviders(scenario), logging: { bodies: true } }));
    const id = uniqueId("req");
    const long = `${SECRET_PROMPT} ${"x".repeat(20_000)}`;
    await (await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: long }] }, { "x-request-id": id })).text();
    const row = await usageRowFor(id);
    expect(JSON.stringify(row)).not.toContain("confidential");
    const bodies = await env.USAGE_DB.prepare("SELECT request, response, truncated FROM usage_bodies WHERE request_id = ?").bind(row.request_id).first<{ request: string; response: string; truncated: number }>();
    expect(bodies?.request).toContain(SECRET_PROMPT);
    expect(bodies?.request.length).toBeLessThanOrEqual(8_000);
    expect(bodies?.truncated).toBe(1);
    expect(bodies?.response).toContain("Hello from the simulator");
  });
});
