import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { TEST_ADMIN_TOKEN, TEST_GATEWAY_DOMAIN } from "../fixtures";
import { admin, callGateway, gateway, newWorkspace, simulatorProviders, upstreamRequests } from "../helpers";
import { hello, keyFor, type ErrorBody } from "./security-helpers";

const json = (res: Response) => res.json() as Promise<ErrorBody>;

describe("bad input is a 4xx, never a 500", () => {
  it.each([
    ["CR/LF", "gpt-4o-mini\r\nx-injected: 1"],
    ["LF", "gpt-4o-mini\nx"],
    ["NUL", "gpt-4o-mini\u0000"],
    ["a tab", "gpt-4o\tmini"],
  ])("a model name with %s is a 400 before any upstream call", async (_what, name) => {
    const ws = await newWorkspace();
    for (const [path, model] of [
      ["/v1/chat/completions", `openai/${name}`],
      ["/v1/chat/completions", name],
      ["/v1/messages", `anthropic/${name}`],
      ["/v1/embeddings", `openai/${name}`],
    ] as const) {
      const body = path === "/v1/embeddings" ? { model, input: "x" } : { ...hello(model), max_tokens: 5 };
      const res = await callGateway(ws.key, path, body);
      expect(res.status, path).toBe(400);
      const payload = (await res.json()) as Record<string, unknown>;
      if (path !== "/v1/messages") expect((payload as ErrorBody).error.param).toBe("model");
    }
    expect(await upstreamRequests(ws.scenario)).toEqual([]);
  });

  it.each([3_000, 100_000])("JSON nested %i deep on a cached route is served (the cache key is computed without recursion)", async (depth) => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { faq: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, cache: { mode: "exact", ttl: 60 } } },
    }));
    const parameters = `{"type":"object","x":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const text = `{"model":"faq","messages":[{"role":"user","content":"Hi"}],"tool_choice":"none","tools":[{"type":"function","function":{"name":"f","parameters":${parameters}}}]}`;
    const send = () => gateway("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${ws.key}`, "content-type": "application/json" }, body: text });
    const first = await send();
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get("x-switchyard-cache")).toBe("MISS");
    await first.text();
  });

  it("a 600-character x-switchyard-workspace is a 400 naming the header", async () => {
    const ws = await newWorkspace();
    const long = "a".repeat(600);
    for (const authorization of [`Bearer ${TEST_ADMIN_TOKEN}`, `Bearer ${ws.key}`]) {
      const res = await gateway("/v1/chat/completions", { method: "POST", headers: { authorization, "content-type": "application/json", "x-switchyard-workspace": long }, body: JSON.stringify(hello("smart")) });
      expect(res.status).toBe(400);
      expect((await json(res)).error.param).toBe("x-switchyard-workspace");
    }
  });

  it("an over-long workspace or key id in an admin path, or a subdomain that is no workspace id, is a 4xx", async () => {
    const ws = await newWorkspace();
    const long = "a".repeat(600);
    for (const [path, method] of [
      [`/workspaces/${long}`, "GET"],
      [`/workspaces/${long}/config`, "GET"],
      [`/workspaces/${long}/keys/key_abc`, "GET"],
      [`/workspaces/${ws.id}/keys/key_${long}`, "GET"],
      [`/workspaces/${ws.id}/keys/key_${long}`, "DELETE"],
      [`/workspaces/${long}/credentials/main`, "DELETE"],
      [`/workspaces/${long}/usage`, "GET"],
    ] as const) {
      expect((await admin(path, { method })).status, `${method} ${path.slice(0, 40)}`).toBe(404);
    }
    const onHost = await exports.default.fetch(new Request(`http://${"b".repeat(70)}.${TEST_GATEWAY_DOMAIN}/v1/models`, { headers: { authorization: `Bearer ${ws.key}` } }));
    expect(onHost.status).toBe(400);
  });

  it("a body that is not valid UTF-8 is a 400, with or without a Content-Length", async () => {
    const ws = await newWorkspace();
    const prefix = new TextEncoder().encode('{"model":"smart","messages":[{"role":"user","content":"caf');
    const suffix = new TextEncoder().encode('"}]}');
    const bytes = new Uint8Array([...prefix, 0xc3, 0x28, 0xff, ...suffix]);
    const streamed = () => new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });
    for (const body of [bytes, streamed()]) {
      const res = await gateway("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${ws.key}`, "content-type": "application/json" }, body, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe("invalid_encoding");
    }
    expect(await upstreamRequests(ws.scenario)).toEqual([]);
  });
});

describe("a key restricted to some routes", () => {
  it("gets the same 403 for routes that exist and routes that do not, so it learns nothing of the others", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: {
        smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } },
        secret: { strategy: "single", target: { provider: "anthropic", model: "claude-haiku-4-5" } },
      },
    }));
    const key = await keyFor(ws.id, { routes: ["smart"] });
    const answers = [];
    for (const model of ["secret", "no-such-route", "anthropic/claude-haiku-4-5", "nope/gpt-4o"]) {
      const res = await callGateway(key, "/v1/chat/completions", hello(model));
      expect(res.status, model).toBe(403);
      const body = await json(res);
      expect(body.error.code).toBe("model_not_allowed");
      answers.push(body.error.message.replace(model, "<model>"));
    }
    expect(new Set(answers).size).toBe(1);
    const embeddings = await callGateway(key, "/v1/embeddings", { model: "no-such-route", input: "x" });
    expect(embeddings.status).toBe(403);
    expect(await upstreamRequests(ws.scenario)).toEqual([]);
  });
});

describe("budget refusals", () => {
  it.each([
    ["day", "daily"],
    ["month", "monthly"],
  ])("a %s budget is called %s", async (period, word) => {
    const ws = await newWorkspace();
    const key = await keyFor(ws.id, { budget: { usd: 0.000001, period } });
    const res = await callGateway(key, "/v1/chat/completions", { ...hello("smart"), max_tokens: 100 });
    expect(res.status).toBe(429);
    const { message } = (await json(res)).error;
    expect(message).toContain(`${word} budget`);
    expect(message).not.toMatch(/dayly|monthly budget.*monthly/);
  });
});
