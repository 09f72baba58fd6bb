import { describe, expect, it } from "vitest";
import { TEST_PROVIDER_KEYS } from "../fixtures";
import { callGateway, newWorkspace, scriptFaults, simulatorProviders, upstreamRequests } from "../helpers";

type OpenAIError = { error: { message: string; type: string; param: string | null; code: string | null } };

describe("upstream errors are passed on faithfully, normalised", () => {
  it("keeps a 4xx status and the provider's message, naming the provider", async () => {
    const ws = await newWorkspace();
    await scriptFaults(ws.scenario, [{ status: 400, message: "Invalid value for 'temperature'." }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as OpenAIError;
    expect(body.error.message).toBe("openai: Invalid value for 'temperature'.");
    expect(body.error.type).toBe("invalid_request_error");
  });

  it("answers in Anthropic's shape on /v1/messages", async () => {
    const ws = await newWorkspace();
    await scriptFaults(ws.scenario, [{ status: 400, message: "messages: roles must alternate" }]);
    const res = await callGateway(ws.key, "/v1/messages", { model: "anthropic/claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: "anthropic: messages: roles must alternate" } });
  });

  it("turns an upstream 5xx into a 502 that carries the upstream status", async () => {
    const ws = await newWorkspace();
    await scriptFaults(ws.scenario, [{ status: 500, message: "The server had an error" }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-switchyard-upstream-status")).toBe("500");
    const body = (await res.json()) as OpenAIError;
    expect(body.error.message).toBe("openai returned HTTP 500: The server had an error");
    expect(body.error.type).toBe("upstream_error");
  });

  it("passes a 429 on with its Retry-After", async () => {
    const ws = await newWorkspace();
    await scriptFaults(ws.scenario, [{ status: 429, message: "Rate limit reached", headers: { "retry-after": "7" } }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(((await res.json()) as OpenAIError).error.message).toBe("openai: Rate limit reached");
  });

  it("never repeats a provider credential an upstream echoes back", async () => {
    const ws = await newWorkspace();
    await scriptFaults(ws.scenario, [{ status: 401, message: `Incorrect API key provided: ${TEST_PROVIDER_KEYS.OPENAI_API_KEY}` }]);
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    const text = await res.text();
    expect(res.status).toBe(401);
    expect(text).not.toContain(TEST_PROVIDER_KEYS.OPENAI_API_KEY);
    expect(text).toContain("[redacted]");
  });

  it("names a missing credential's variable, never a value (a 503: the deployment's to fix)", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: { ...simulatorProviders(scenario), lost: { type: "openai", baseURL: "http://127.0.0.1:9/v1", apiKey: { env: "NOT_SET_ANYWHERE_KEY" } } },
    }));
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "lost/gpt-4o", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(503);
    const body = (await res.json()) as OpenAIError;
    expect(body.error.code).toBe("credential_missing");
    expect(body.error.message).toContain("NOT_SET_ANYWHERE_KEY");
  });

  it("reports an unreachable provider as 502", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: { ...simulatorProviders(scenario), down: { type: "openai", baseURL: "http://127.0.0.1:9/v1", apiKey: { env: "OPENAI_API_KEY" } } },
    }));
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "down/gpt-4o", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(502);
    const body = (await res.json()) as OpenAIError;
    expect(body.error.code).toBe("upstream_unreachable");
    expect(body.error.message).not.toContain(TEST_PROVIDER_KEYS.OPENAI_API_KEY);
  });

  it("sends the configured credential upstream, not the gateway key", async () => {
    const ws = await newWorkspace();
    await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.headers.authorization).toBe(`Bearer ${TEST_PROVIDER_KEYS.OPENAI_API_KEY}`);
    expect(JSON.stringify(upstream)).not.toContain(ws.key);
  });
});
