import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/api/body";
import { gateway, newWorkspace, type TestWorkspace } from "../helpers";

let ws: TestWorkspace;
beforeAll(async () => {
  ws = await newWorkspace();
});

type Case = {
  name: string;
  path?: string;
  method?: string;
  body?: string | (() => string);
  headers?: (key: string) => Record<string, string>;
  status: number;
  param?: string;
  code?: string;
};

const json = (value: unknown) => JSON.stringify(value);
const bearer = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
const user = [{ role: "user", content: "hi" }];

/** Each malformed request and the status (and where it matters, the param or code) the gateway must answer. */
const cases: Case[] = [
  { name: "body is not JSON", body: "{not json", status: 400, code: "invalid_json" },
  { name: "body is empty", body: "", status: 400 },
  { name: "body is a JSON array", body: "[]", status: 400, code: "invalid_json" },
  { name: "body is a JSON string", body: '"hello"', status: 400, code: "invalid_json" },
  { name: "body is null", body: "null", status: 400 },
  { name: "missing model", body: json({ messages: user }), status: 400, param: "model" },
  { name: "model is a number", body: json({ model: 42, messages: user }), status: 400, param: "model" },
  { name: "model is empty", body: json({ model: "", messages: user }), status: 400, param: "model" },
  { name: "missing messages", body: json({ model: "smart" }), status: 400, param: "messages" },
  { name: "messages is not an array", body: json({ model: "smart", messages: "hi" }), status: 400, param: "messages" },
  { name: "messages is empty", body: json({ model: "smart", messages: [] }), status: 400, param: "messages" },
  { name: "message without role", body: json({ model: "smart", messages: [{ content: "hi" }] }), status: 400, param: "messages[0].role" },
  { name: "message with unknown role", body: json({ model: "smart", messages: [{ role: "wizard", content: "hi" }] }), status: 400, param: "messages[0].role" },
  { name: "user content is a number", body: json({ model: "smart", messages: [{ role: "user", content: 5 }] }), status: 400, param: "messages[0].content" },
  { name: "unknown content part type", body: json({ model: "smart", messages: [{ role: "user", content: [{ type: "video", url: "x" }] }] }), status: 400, param: "messages[0].content[0].type" },
  { name: "tool message without tool_call_id", body: json({ model: "smart", messages: [{ role: "tool", content: "x" }] }), status: 400, param: "messages[0].tool_call_id" },
  { name: "temperature is a string", body: json({ model: "smart", messages: user, temperature: "hot" }), status: 400, param: "temperature" },
  { name: "temperature out of range", body: json({ model: "smart", messages: user, temperature: 3 }), status: 400, param: "temperature" },
  { name: "top_p out of range", body: json({ model: "smart", messages: user, top_p: 1.5 }), status: 400, param: "top_p" },
  { name: "max_tokens negative", body: json({ model: "smart", messages: user, max_tokens: -1 }), status: 400, param: "max_tokens" },
  { name: "max_tokens fractional", body: json({ model: "smart", messages: user, max_tokens: 1.5 }), status: 400, param: "max_tokens" },
  { name: "stream is a string", body: json({ model: "smart", messages: user, stream: "yes" }), status: 400, param: "stream" },
  { name: "n greater than 1", body: json({ model: "smart", messages: user, n: 3 }), status: 400, param: "n" },
  { name: "too many stop sequences", body: json({ model: "smart", messages: user, stop: ["a", "b", "c", "d", "e"] }), status: 400, param: "stop" },
  { name: "tools is not an array", body: json({ model: "smart", messages: user, tools: {} }), status: 400, param: "tools" },
  { name: "tool with a bad function name", body: json({ model: "smart", messages: user, tools: [{ type: "function", function: { name: "has space" } }] }), status: 400, param: "tools[0].function.name" },
  { name: "unknown tool_choice", body: json({ model: "smart", messages: user, tool_choice: "sometimes" }), status: 400, param: "tool_choice" },
  { name: "unknown response_format type", body: json({ model: "smart", messages: user, response_format: { type: "yaml" } }), status: 400, param: "response_format.type" },
  { name: "json_schema format without a name", body: json({ model: "smart", messages: user, response_format: { type: "json_schema", json_schema: {} } }), status: 400, param: "response_format.json_schema.name" },
  { name: "unknown model", body: json({ model: "no-such-route", messages: user }), status: 404, code: "model_not_found" },
  { name: "unknown provider in provider/model", body: json({ model: "nope/gpt-4o", messages: user }), status: 404, code: "model_not_found" },
  { name: "provider with an empty model", body: json({ model: "openai/", messages: user }), status: 404, code: "model_not_found" },
  { name: "huge body (declared)", body: () => json({ model: "smart", messages: [{ role: "user", content: "x".repeat(MAX_BODY_BYTES) }] }), status: 413, code: "request_too_large" },
  { name: "form-encoded body", body: "model=smart", headers: (key) => ({ authorization: `Bearer ${key}`, "content-type": "application/x-www-form-urlencoded" }), status: 415 },
  { name: "text/plain body", body: json({ model: "smart", messages: user }), headers: (key) => ({ authorization: `Bearer ${key}`, "content-type": "text/plain" }), status: 415 },
  { name: "no key at all", body: json({ model: "smart", messages: user }), headers: () => ({ "content-type": "application/json" }), status: 401 },
  { name: "Authorization without Bearer", body: json({ model: "smart", messages: user }), headers: (key) => ({ authorization: key, "content-type": "application/json" }), status: 401 },
  { name: "Basic authorization", body: json({ model: "smart", messages: user }), headers: () => ({ authorization: "Basic dXNlcjpwYXNz", "content-type": "application/json" }), status: 401 },
  { name: "Bearer with no token", body: json({ model: "smart", messages: user }), headers: () => ({ authorization: "Bearer ", "content-type": "application/json" }), status: 401 },
  { name: "Bearer with an unknown key", body: json({ model: "smart", messages: user }), headers: () => bearer("sy-00000000000000000000000000000000"), status: 401 },
  { name: "Bearer with a malformed key", body: json({ model: "smart", messages: user }), headers: () => bearer("sk-not-a-gateway-key"), status: 401 },
  { name: "empty x-api-key", body: json({ model: "smart", messages: user }), headers: () => ({ "x-api-key": " ", "content-type": "application/json" }), status: 401 },
  { name: "wrong method on chat", method: "GET", body: undefined, status: 405 },
  { name: "wrong method on models", path: "/v1/models", method: "POST", body: json({}), status: 405 },
  { name: "unknown /v1 path", path: "/v1/completions/unknown", body: json({}), status: 404 },
  { name: "unknown top-level path", path: "/nope", method: "GET", body: undefined, status: 404 },
  { name: "embeddings without input", path: "/v1/embeddings", body: json({ model: "openai/text-embedding-3-small" }), status: 400, param: "input" },
  { name: "embeddings with a bad encoding_format", path: "/v1/embeddings", body: json({ model: "openai/text-embedding-3-small", input: "x", encoding_format: "int8" }), status: 400, param: "encoding_format" },
  { name: "messages without max_tokens", path: "/v1/messages", body: json({ model: "smart", messages: user }), status: 400, param: "max_tokens" },
  { name: "messages with a system role message", path: "/v1/messages", body: json({ model: "smart", max_tokens: 5, messages: [{ role: "system", content: "x" }] }), status: 400, param: "messages[0].role" },
];

describe("bad input gets the right 4xx in the right shape", () => {
  it("has at least 30 cases", () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases)("$name → $status", async (testCase) => {
    const path = testCase.path ?? "/v1/chat/completions";
    const method = testCase.method ?? "POST";
    const body = typeof testCase.body === "function" ? testCase.body() : testCase.body;
    const res = await gateway(path, { method, headers: testCase.headers?.(ws.key) ?? bearer(ws.key), ...(body !== undefined ? { body } : {}) });
    expect(res.status).toBe(testCase.status);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const payload = (await res.json()) as Record<string, unknown>;
    if (path === "/v1/messages") {
      expect(payload).toMatchObject({ type: "error", error: { type: expect.any(String), message: expect.any(String) } });
      return;
    }
    const error = (payload as { error: { message: string; type: string; param: string | null; code: string | null } }).error;
    expect(Object.keys(error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(error.message).not.toMatch(/at .*\.ts:\d+/);
    if (testCase.param) expect(error.param).toBe(testCase.param);
    if (testCase.code) expect(error.code).toBe(testCase.code);
  });

  it("never echoes a presented key", async () => {
    const res = await gateway("/v1/chat/completions", { method: "POST", headers: bearer("sy-SECRETSECRETSECRETSECRETSECRET12"), body: json({ model: "smart", messages: user }) });
    expect(await res.text()).not.toContain("SECRETSECRET");
  });
});
