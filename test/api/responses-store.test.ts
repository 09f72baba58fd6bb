import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { APIError } from "openai";
import { describe, expect, it } from "vitest";
import type { ResponseStore } from "../../durable-objects/response-store";
import { admin, callGateway, gateway, newWorkspace, openAIClient, simulatorProviders, upstreamRequests } from "../helpers";
import { addKey, type ErrorBody } from "../tenancy/tenancy-helpers";

/** Stored responses: retrieval, deletion, input items, retention, workspace isolation; and the 4xx of bad input. */

const shardOf = (workspaceId: string, responseId: string) => env.RESPONSE_STORE.getByName(`${workspaceId}:${responseId.slice(5, 7)}`);

const getResponse = (key: string, path: string, method = "GET") => gateway(`/v1/responses${path}`, { method, headers: { authorization: `Bearer ${key}` } });

async function errorOf(response: Response): Promise<ErrorBody["error"] & { status: number }> {
  const body = (await response.json()) as ErrorBody;
  return { status: response.status, ...body.error };
}

const DAY_MS = 86_400_000;

describe("stored responses", () => {
  it("are retrieved and deleted; a deleted response is gone everywhere", async () => {
    const ws = await newWorkspace();
    const client = openAIClient(ws.key);
    const created = await client.responses.create({ model: "smart", input: "Keep this", metadata: { ticket: "T-1" } });
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved).toEqual(created);
    expect(retrieved.metadata).toEqual({ ticket: "T-1" });
    const deleted = await getResponse(ws.key, `/${created.id}`, "DELETE");
    expect(await deleted.json()).toEqual({ id: created.id, object: "response", deleted: true });
    expect(await errorOf(await getResponse(ws.key, `/${created.id}`))).toMatchObject({ status: 404, code: "response_not_found", type: "invalid_request_error" });
    expect((await getResponse(ws.key, `/${created.id}`, "DELETE")).status).toBe(404);
    expect((await getResponse(ws.key, `/${created.id}/input_items`)).status).toBe(404);
    const continued = await callGateway(ws.key, "/v1/responses", { model: "smart", input: "More", previous_response_id: created.id });
    expect(await errorOf(continued)).toMatchObject({ status: 404, param: "previous_response_id", code: "previous_response_not_found" });
  });

  it("list their input items with ids, newest first by default, paginated", async () => {
    const ws = await newWorkspace();
    const client = openAIClient(ws.key);
    const created = await client.responses.create({
      model: "smart",
      input: [
        { role: "developer", content: "Be terse." },
        { role: "user", content: "one" },
        { role: "assistant", content: "two" },
        { role: "user", content: [{ type: "input_text", text: "three" }, { type: "input_image", image_url: "https://example.com/cat.png", detail: "low" }] },
      ],
    });
    const all = await client.responses.inputItems.list(created.id);
    expect(all.data.map((item) => item.type === "message" && item.role)).toEqual(["user", "assistant", "user", "developer"]);
    expect(all.data[0]).toMatchObject({ type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "three" }, { type: "input_image", image_url: "https://example.com/cat.png", detail: "low" }] });
    expect(all.data[1]).toMatchObject({ role: "assistant", content: [{ type: "output_text", text: "two" }] });
    expect(all.data.every((item) => typeof item.id === "string" && item.id.startsWith("msg_"))).toBe(true);
    // The SDK follows the cursor (`after` = the last id of a page) through pages of two, oldest first.
    const ascending: string[] = [];
    for await (const item of client.responses.inputItems.list(created.id, { limit: 2, order: "asc" })) ascending.push(item.id!);
    expect(ascending).toEqual(all.data.map((item) => item.id).reverse());
    const page = (await (await getResponse(ws.key, `/${created.id}/input_items?limit=3`)).json()) as { data: { id: string }[]; first_id: string; last_id: string; has_more: boolean };
    expect(page).toMatchObject({ first_id: all.data[0]!.id, last_id: all.data[2]!.id, has_more: true });
    const rest = (await (await getResponse(ws.key, `/${created.id}/input_items?limit=3&after=${page.last_id}`)).json()) as { data: { id: string }[]; has_more: boolean };
    expect(rest).toMatchObject({ data: [{ id: all.data[3]!.id }], has_more: false });
  });

  it("are not kept with store: false", async () => {
    const ws = await newWorkspace();
    const created = await openAIClient(ws.key).responses.create({ model: "smart", input: "Forget this", store: false });
    expect(created).toMatchObject({ store: false });
    expect((await getResponse(ws.key, `/${created.id}`)).status).toBe(404);
    expect(await shardOf(ws.id, created.id).count()).toBe(0);
  });

  it("belong to their workspace: another workspace's key cannot read, delete or continue them", async () => {
    const owner = await newWorkspace();
    const stranger = await newWorkspace();
    const created = await openAIClient(owner.key).responses.create({ model: "smart", input: "Private" });
    expect((await getResponse(stranger.key, `/${created.id}`)).status).toBe(404);
    expect((await getResponse(stranger.key, `/${created.id}`, "DELETE")).status).toBe(404);
    expect((await getResponse(stranger.key, `/${created.id}/input_items`)).status).toBe(404);
    const continued = await callGateway(stranger.key, "/v1/responses", { model: "smart", input: "Tell me", previous_response_id: created.id });
    expect(await errorOf(continued)).toMatchObject({ status: 404, param: "previous_response_id" });
    expect(await upstreamRequests(stranger.scenario)).toHaveLength(0);
    // Another key of the owner's workspace may continue it.
    const colleague = await addKey(owner.id, {});
    const next = await openAIClient(colleague.key).responses.create({ model: "smart", input: "Go on", previous_response_id: created.id });
    expect(next.previous_response_id).toBe(created.id);
    expect((await openAIClient(owner.key).responses.retrieve(created.id)).id).toBe(created.id);
  });

  it("expire after the workspace's retention, and the alarm deletes what expired", async () => {
    const ws = await newWorkspace((scenario) => ({ providers: simulatorProviders(scenario), routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } }, responses: { retentionDays: 2 } }));
    const created = await openAIClient(ws.key).responses.create({ model: "smart", input: "Short-lived" });
    const stub = shardOf(ws.id, created.id);
    const [row] = await runInDurableObject(stub, (_instance: ResponseStore, state) => state.storage.sql.exec<{ created_at: number; expires_at: number }>("SELECT created_at, expires_at FROM rs_responses").toArray());
    expect(row!.expires_at - row!.created_at).toBe(2 * DAY_MS);
    expect(await stub.get(created.id, row!.expires_at - 1)).not.toBeNull();
    expect(await stub.get(created.id, row!.expires_at)).toBeNull();
    expect(await stub.conversation(created.id, row!.expires_at)).toEqual({ ok: false, reason: "not_found" });
    // A response that already expired is deleted by the alarm; the live one stays.
    await stub.put({ id: `${created.id.slice(0, 7)}${"x".repeat(40)}`, response: "{}", input: [], output: [], previousId: null, keyId: null, createdAt: Date.now() - 3 * DAY_MS, expiresAt: Date.now() - DAY_MS });
    expect(await stub.count()).toBe(2);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.count()).toBe(1);
  });

  it("are not kept at all with retentionDays 0", async () => {
    const ws = await newWorkspace((scenario) => ({ providers: simulatorProviders(scenario), routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } }, responses: { retentionDays: 0 } }));
    const created = await openAIClient(ws.key).responses.create({ model: "smart", input: "Nothing kept" });
    expect(created).toMatchObject({ store: false });
    expect((await getResponse(ws.key, `/${created.id}`)).status).toBe(404);
  });

  it("are deleted with their workspace", async () => {
    const ws = await newWorkspace();
    const created = await openAIClient(ws.key).responses.create({ model: "smart", input: "Gone with the workspace" });
    const stub = shardOf(ws.id, created.id);
    expect(await stub.count()).toBe(1);
    expect((await admin(`/workspaces/${ws.id}`, { method: "DELETE" })).status).toBe(200);
    // The shards forget in the background (waitUntil): wait for it, however slow the machine.
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && (await stub.count()) > 0; ) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await stub.count()).toBe(0);
  });
});

type BadCase = { name: string; body: Record<string, unknown>; status: number; param: string; code?: string };

const call = (id: string) => ({ type: "function_call", call_id: id, name: "get_weather", arguments: '{"city":"Paris"}' });
const output = (id: string) => ({ type: "function_call_output", call_id: id, output: "Sunny" });
const user = (text: string) => ({ role: "user", content: text });
const tools = [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];

const BAD_INPUT: BadCase[] = [
  { name: "an unknown previous_response_id", body: { input: "hi", previous_response_id: `resp_03${"a".repeat(40)}` }, status: 404, param: "previous_response_id", code: "previous_response_not_found" },
  { name: "a previous_response_id that is not a response id", body: { input: "hi", previous_response_id: "resp_123" }, status: 404, param: "previous_response_id" },
  { name: "a function_call_output with no function_call", body: { input: [user("hi"), output("call_1")], tools }, status: 400, param: "input[1].call_id" },
  { name: "a function_call_output before its call", body: { input: [user("hi"), output("call_1"), call("call_1")], tools }, status: 400, param: "input[1].call_id" },
  { name: "a second output for one call", body: { input: [user("hi"), call("call_1"), output("call_1"), output("call_1")], tools }, status: 400, param: "input[3].call_id" },
  { name: "a message between a call and its output", body: { input: [user("hi"), call("call_1"), user("and?"), output("call_1")], tools }, status: 400, param: "input[2]" },
  { name: "a call without an output", body: { input: [user("hi"), call("call_1")], tools }, status: 400, param: "input" },
  { name: "an unsupported input item type", body: { input: [{ type: "web_search_call", id: "ws_1", status: "completed" }] }, status: 400, param: "input[0].type" },
  { name: "an item reference", body: { input: [{ type: "item_reference", id: "msg_1" }] }, status: 400, param: "input[0].type" },
  { name: "a file part", body: { input: [{ role: "user", content: [{ type: "input_text", text: "read" }, { type: "input_file", file_id: "file-1" }] }] }, status: 400, param: "input[0].content[1].type" },
  { name: "an image by file id", body: { input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1", detail: "auto" }] }] }, status: 400, param: "input[0].content[0].file_id" },
  { name: "a built-in tool", body: { input: "hi", tools: [...tools, { type: "file_search", vector_store_ids: ["vs_1"] }] }, status: 400, param: "tools[1].type", code: "unsupported_tool" },
  { name: "a built-in tool choice", body: { input: "hi", tools, tool_choice: { type: "web_search_preview" } }, status: 400, param: "tool_choice.type", code: "unsupported_tool" },
  { name: "a tool choice naming no tool", body: { input: "hi", tools, tool_choice: { type: "function", name: "nope" } }, status: 400, param: "tool_choice.name" },
  { name: "no input", body: {}, status: 400, param: "input" },
  { name: "background mode", body: { input: "hi", background: true }, status: 400, param: "background" },
  { name: "a conversation id", body: { input: "hi", conversation: "conv_1" }, status: 400, param: "conversation" },
  { name: "too many metadata pairs", body: { input: "hi", metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, status: 400, param: "metadata" },
];

describe("bad input to /v1/responses", () => {
  it.each(BAD_INPUT)("$name → $status naming $param", async ({ body, status, param, code }) => {
    const ws = await newWorkspace();
    const error = await openAIClient(ws.key)
      .responses.create({ model: "smart", ...body } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(status);
    expect((error as APIError).param).toBe(param);
    if (code) expect((error as APIError).code).toBe(code);
    expect(await upstreamRequests(ws.scenario)).toHaveLength(0);
  });

  it("answers wrong methods with 405 and bad list parameters with 400", async () => {
    const ws = await newWorkspace();
    const put = await getResponse(ws.key, "/resp_x", "PUT");
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, DELETE");
    expect((await getResponse(ws.key, "/resp_x/input_items", "POST")).status).toBe(405);
    expect((await getResponse(ws.key, "", "GET")).status).toBe(405);
    const created = await openAIClient(ws.key).responses.create({ model: "smart", input: "hi" });
    expect(await errorOf(await getResponse(ws.key, `/${created.id}/input_items?limit=0`))).toMatchObject({ status: 400, param: "limit" });
    expect(await errorOf(await getResponse(ws.key, `/${created.id}/input_items?order=sideways`))).toMatchObject({ status: 400, param: "order" });
    expect(await errorOf(await getResponse(ws.key, `/${created.id}?stream=true`))).toMatchObject({ status: 400, param: "stream" });
  });
});
