import { env } from "cloudflare:workers";
import { listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN } from "../fixtures";
import { admin, callGateway, newWorkspace, simulatorProviders, upstreamRequests } from "../helpers";
import { addKey, hello, limiterWhen, type ErrorBody } from "./tenancy-helpers";

describe("rate limits per key", () => {
  it("rpm is exact under concurrency: with rpm N, N of N+5 simultaneous requests succeed, the rest get 429 with OpenAI's headers", async () => {
    const rpm = 7;
    const ws = await newWorkspace();
    const key = await addKey(ws.id, { rateLimit: { rpm } });
    const responses = await Promise.all(Array.from({ length: rpm + 5 }, () => callGateway(key.key, "/v1/chat/completions", hello())));
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok.length).toBe(rpm);
    expect(limited.length).toBe(5);
    expect((await upstreamRequests(ws.scenario)).length).toBe(rpm);

    for (const res of limited) {
      const body = (await res.json()) as ErrorBody;
      expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
      const retryAfter = Number(res.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(res.headers.get("x-ratelimit-limit-requests")).toBe(String(rpm));
      expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
      expect(res.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?m?s$|^\d+m\d+(\.\d+)?s$/);
    }
    // Successful responses carry the headers too, and each saw a different remaining count.
    const remaining = ok.map((r) => Number(r.headers.get("x-ratelimit-remaining-requests"))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: rpm }, (_, i) => i));
    for (const res of ok) expect(res.headers.get("x-ratelimit-limit-requests")).toBe(String(rpm));
  });

  it("a key without limits makes no limiter round trip and gets no rate-limit headers", async () => {
    const ws = await newWorkspace();
    const limited = await addKey(ws.id, { rateLimit: { rpm: 100 } });
    const res = await callGateway(ws.key, "/v1/chat/completions", hello());
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBeNull();
    expect((await callGateway(limited.key, "/v1/chat/completions", hello())).status).toBe(200);
    // Only the limited key's limiter was ever instantiated (its constructor writes the schema, so it has storage).
    const ids = (await listDurableObjectIds(env.KEY_LIMITER)).map((id) => id.toString());
    expect(ids).toContain(env.KEY_LIMITER.idFromName(`key:${limited.id}`).toString());
    expect(ids).not.toContain(env.KEY_LIMITER.idFromName(`key:${ws.keyId}`).toString());
  });

  it("a PATCHed limit applies to the next request", async () => {
    const ws = await newWorkspace();
    const key = await addKey(ws.id, { rateLimit: { rpm: 1 } });
    expect((await callGateway(key.key, "/v1/chat/completions", hello())).status).toBe(200);
    expect((await callGateway(key.key, "/v1/chat/completions", hello())).status).toBe(429);
    await admin(`/workspaces/${ws.id}/keys/${key.id}`, { method: "PATCH", body: JSON.stringify({ rateLimit: { rpm: 3 } }) });
    expect((await callGateway(key.key, "/v1/chat/completions", hello())).status).toBe(200);
    await admin(`/workspaces/${ws.id}/keys/${key.id}`, { method: "PATCH", body: JSON.stringify({ rateLimit: null }) });
    const unlimited = await Promise.all(Array.from({ length: 5 }, () => callGateway(key.key, "/v1/chat/completions", hello())));
    expect(unlimited.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it("tpm admits on an estimate (prompt + max_tokens) and settles to the real token count", async () => {
    const ws = await newWorkspace();
    // Each request: "Hi" (estimate 1 + 4 overhead = 5 tokens) + max_tokens 60 → estimate 65; real usage is about 13.
    const key = await addKey(ws.id, { rateLimit: { tpm: 100 } });
    const request = hello("Hi", { max_tokens: 60 });
    const [first, second] = await Promise.all([callGateway(key.key, "/v1/chat/completions", request), callGateway(key.key, "/v1/chat/completions", request)]);
    expect([first!.status, second!.status].sort()).toEqual([200, 429]);
    const refused = first!.status === 429 ? first! : second!;
    expect(((await refused.json()) as ErrorBody).error.code).toBe("tokens_rate_limit_exceeded");
    expect(refused.headers.get("x-ratelimit-limit-tokens")).toBe("100");
    expect(refused.headers.get("x-ratelimit-remaining-tokens")).toBe("35");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);

    // After settlement the window holds the real count, so another estimated 65 fits.
    const accepted = first!.status === 200 ? first! : second!;
    const usage = ((await accepted.json()) as { usage: { total_tokens: number } }).usage;
    const snapshot = await limiterWhen(ws.id, key.id, (s) => s.tokensInWindow === usage.total_tokens);
    expect(snapshot.tokensInWindow).toBe(usage.total_tokens);
    expect(usage.total_tokens).toBeLessThan(35);
    const third = await callGateway(key.key, "/v1/chat/completions", request);
    expect(third.status).toBe(200);
    expect(third.headers.get("x-ratelimit-remaining-tokens")).toBe(String(100 - usage.total_tokens - 65));
  });

  it("a request whose estimate alone exceeds tpm is refused", async () => {
    const ws = await newWorkspace();
    const key = await addKey(ws.id, { rateLimit: { tpm: 50 } });
    const res = await callGateway(key.key, "/v1/chat/completions", hello("Hi", { max_tokens: 500 }));
    expect(res.status).toBe(429);
    expect(await upstreamRequests(ws.scenario)).toEqual([]);
  });

  it("workspace limits (config `limits`) bind all of its keys together, in the same single admission", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
      limits: { rateLimit: { rpm: 4 } },
    }));
    const other = await addKey(ws.id, { rateLimit: { rpm: 10 } });
    const statuses = await Promise.all([ws.key, ws.key, other.key, other.key, ws.key, other.key].map((key) => callGateway(key, "/v1/chat/completions", hello()).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200).length).toBe(4);
    const refused = await callGateway(other.key, "/v1/chat/completions", hello());
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as ErrorBody).error.message).toContain("this workspace");
    expect(refused.headers.get("x-ratelimit-limit-requests")).toBe("4");
    expect(await (await admin(`/workspaces/${ws.id}/limits`)).json()).toMatchObject({ requestsInWindow: 4 });
    // The key's own counters are kept as well, in the workspace's limiter.
    const own = (await (await admin(`/workspaces/${ws.id}/keys/${other.id}/limits`)).json()) as { requestsInWindow: number };
    expect(own.requestsInWindow).toBeGreaterThanOrEqual(1);
    // The admin token's test requests count against the workspace too.
    expect((await callGateway(TEST_ADMIN_TOKEN, "/v1/chat/completions", hello(), { "x-switchyard-workspace": ws.id })).status).toBe(429);
  });
});

