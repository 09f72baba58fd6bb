import { describe, expect, it } from "vitest";
import { scriptFaults, upstreamRequests } from "../helpers";
import { BACKUP, PRIMARY, chat, countRequests, routingWorkspace } from "./setup";

const fallbackRoute = (extra: Record<string, unknown> = {}) => ({ routes: { r: { strategy: "fallback" as const, targets: [PRIMARY, BACKUP], ...extra } } });

describe("retries", () => {
  it("honours a 429's Retry-After on the same target, then succeeds", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "single", target: PRIMARY, retry: { attempts: 2 } } } });
    await scriptFaults(ws.primary, [{ status: 429, headers: { "retry-after": "1" } }]);
    const res = await chat(ws);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-attempts")).toBe("2");
    expect(res.headers.get("x-switchyard-provider")).toBe("primary");
    const [first, second] = await upstreamRequests(ws.primary);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
  });

  it("honours retry-after-ms", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "single", target: PRIMARY, retry: { attempts: 2 } } } });
    await scriptFaults(ws.primary, [{ status: 429, headers: { "retry-after-ms": "400" } }]);
    const res = await chat(ws);
    expect(res.status).toBe(200);
    const [first, second] = await upstreamRequests(ws.primary);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(400);
  });

  it("moves on to the next target when Retry-After is too long to wait", async () => {
    const ws = await routingWorkspace(fallbackRoute({ retry: { attempts: 3 } }));
    await scriptFaults(ws.primary, [{ status: 429, headers: { "retry-after": "120" } }]);
    const res = await chat(ws);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(await countRequests(ws.primary)).toBe(1);
  });

  it("retries 5xx with backoff up to `attempts`, counting the first", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "single", target: PRIMARY, retry: { attempts: 3, backoff: { initialMs: 10 } } } } });
    await scriptFaults(ws.primary, [{ status: 500 }, { status: 502 }]);
    const res = await chat(ws);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-attempts")).toBe("3");
    await scriptFaults(ws.primary, [{ status: 503, times: 3 }]);
    const failed = await chat(ws);
    expect(failed.status).toBe(502);
    expect(failed.headers.get("x-switchyard-attempts")).toBe("3");
    expect(await countRequests(ws.primary)).toBe(6);
  });

  it("does not retry or fall back on a 400 from the upstream", async () => {
    const ws = await routingWorkspace(fallbackRoute({ retry: { attempts: 3 } }));
    await scriptFaults(ws.primary, [{ status: 400, message: "bad request" }]);
    const res = await chat(ws);
    expect(res.status).toBe(400);
    expect(await countRequests(ws.primary)).toBe(1);
    expect(await countRequests(ws.backup)).toBe(0);
  });

  it("falls back on a 401 without retrying the same provider", async () => {
    const ws = await routingWorkspace(fallbackRoute({ retry: { attempts: 3 } }));
    await scriptFaults(ws.primary, [{ status: 401 }]);
    const res = await chat(ws);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(await countRequests(ws.primary)).toBe(1);
  });
});

describe("fallbacks", () => {
  it("serves from the fallback when the primary answers 503", async () => {
    const ws = await routingWorkspace(fallbackRoute());
    await scriptFaults(ws.primary, [{ status: 503 }]);
    const res = await chat(ws);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-attempts")).toBe("2");
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(res.headers.get("x-switchyard-model")).toBe("claude-haiku-4-5");
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]!.message.content).toBe("Hello from the simulator. You said: Hi");
    expect(await countRequests(ws.backup)).toBe(1);
  });

  it("times out a slow primary, cancels it and falls back", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "fallback", targets: [{ ...PRIMARY, timeout: { connectMs: 300 } }, BACKUP] } } });
    await scriptFaults(ws.primary, [{ delayMs: 5000 }]);
    const res = await chat(ws);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(res.headers.get("x-switchyard-attempts")).toBe("2");
    const [primary] = await upstreamRequests(ws.primary);
    const [backup] = await upstreamRequests(ws.backup);
    // The backup was asked long before the primary would have answered.
    expect(backup!.at - primary!.at).toBeLessThan(5000);
    // The primary's call was cancelled, not left running.
    await expect.poll(async () => (await upstreamRequests(ws.primary))[0]!.aborted, { timeout: 3000 }).toBe(true);
    expect(backup!.aborted).toBe(false);
  });

  it("a first-byte timeout covers a stream's first event, after the headers", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "fallback", targets: [{ ...PRIMARY, timeout: { firstByteMs: 300 } }, BACKUP] } } });
    await scriptFaults(ws.primary, [{ firstEventDelayMs: 5000 }]);
    const res = await chat(ws, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(await res.text()).toContain("data: [DONE]");
  });

  it("the connect timeout stops at the headers: a slow first event does not trip it", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "fallback", targets: [{ ...PRIMARY, timeout: { connectMs: 1500 } }, BACKUP] } } });
    await scriptFaults(ws.primary, [{ firstEventDelayMs: 2500 }]);
    const res = await chat(ws, { stream: true });
    expect(res.headers.get("x-switchyard-provider")).toBe("primary");
    expect(await res.text()).toContain("data: [DONE]");
  });

  it("answers 504 when the only target times out", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "single", target: PRIMARY, timeout: { connectMs: 200 } } } });
    await scriptFaults(ws.primary, [{ delayMs: 3000 }]);
    const res = await chat(ws);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_timeout");
  });

  it("retries a refused connection, then falls back", async () => {
    const ws = await routingWorkspace({
      routes: { r: { strategy: "fallback", retry: { attempts: 2, backoff: { initialMs: 10 } }, targets: [{ provider: "dead", model: "gpt-4o-mini" }, BACKUP] } },
    });
    const res = await chat(ws);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(res.headers.get("x-switchyard-attempts")).toBe("3");
  });

  it("falls back through a nested route", async () => {
    const ws = await routingWorkspace({
      routes: {
        r: { strategy: "fallback", targets: [{ route: "inner" }, BACKUP] },
        inner: { strategy: "single", target: PRIMARY },
      },
    });
    await scriptFaults(ws.primary, [{ status: 500 }]);
    const res = await chat(ws);
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(res.headers.get("x-switchyard-attempts")).toBe("2");
  });
});
