import { env } from "cloudflare:workers";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { gateway, newWorkspace, openAIClient, simulatorProviders, type TestWorkspace } from "../helpers";

/** /v1/files through the official OpenAI SDK: upload, list, retrieve, content, delete; checks on upload; isolation. */

let ws: TestWorkspace;
let client: OpenAI;
beforeAll(async () => {
  ws = await newWorkspace((scenario) => ({
    providers: simulatorProviders(scenario),
    routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
    files: { maxBytes: 16 * 1024 * 1024 },
  }));
  client = openAIClient(ws.key);
});

const requestLine = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "smart", messages: [{ role: "user", content: `hello ${id}` }] }, ...extra });

const jsonl = (...lines: string[]) => new File([lines.join("\n") + "\n"], "input.jsonl", { type: "application/jsonl" });

/** What R2 holds for a workspace: a refused upload must leave nothing there. */
async function storedObjects(workspaceId: string): Promise<string[]> {
  return (await env.FILES.list({ prefix: `files/${workspaceId}/` })).objects.map((o) => o.key);
}

async function expectRefused(promise: Promise<unknown>, expected: { status: number; code?: string; param?: string; message?: RegExp }) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  const apiError = error as InstanceType<typeof OpenAI.APIError>;
  expect(apiError.status).toBe(expected.status);
  if (expected.code) expect(apiError.code).toBe(expected.code);
  if (expected.param) expect(apiError.param).toBe(expected.param);
  if (expected.message) expect(apiError.message).toMatch(expected.message);
}

describe("files API with the OpenAI SDK", () => {
  it("uploads, retrieves, lists, reads back and deletes a batch file", async () => {
    const content = [requestLine("a"), requestLine("b")].join("\n") + "\n";
    const created = await client.files.create({ file: new File([content], "requests.jsonl"), purpose: "batch" });
    expect(created).toMatchObject({ object: "file", purpose: "batch", filename: "requests.jsonl", bytes: new TextEncoder().encode(content).byteLength, status: "processed" });
    expect(created.id).toMatch(/^file-/);

    expect(await client.files.retrieve(created.id)).toEqual(created);
    expect(await (await client.files.content(created.id)).text()).toBe(content);

    const other = await client.files.create({ file: new File(["notes"], "notes.txt"), purpose: "user_data" });
    const batchFiles = await client.files.list({ purpose: "batch" });
    expect(batchFiles.data.map((f) => f.id)).toEqual([created.id]);
    const newestFirst = await client.files.list({ limit: 1 });
    expect(newestFirst.data.map((f) => f.id)).toEqual([other.id]);
    expect(newestFirst.has_more).toBe(true);
    const nextPage = await client.files.list({ limit: 1, after: other.id });
    expect(nextPage.data.map((f) => f.id)).toEqual([created.id]);
    const oldestFirst = await client.files.list({ order: "asc" });
    expect(oldestFirst.data.map((f) => f.id).slice(0, 2)).toEqual([created.id, other.id]);

    expect(await client.files.delete(created.id)).toEqual({ id: created.id, object: "file", deleted: true });
    await expectRefused(client.files.retrieve(created.id), { status: 404, code: "file_not_found" });
    expect(await storedObjects(ws.id)).not.toContain(`files/${ws.id}/${created.id}`);
  });

  it("streams a file larger than one storage part in and out unchanged", async () => {
    const size = 9 * 1024 * 1024 + 123;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
    const created = await client.files.create({ file: new File([bytes], "blob.bin"), purpose: "user_data" });
    expect(created.bytes).toBe(size);
    const back = new Uint8Array(await (await client.files.content(created.id)).arrayBuffer());
    expect(back.byteLength).toBe(size);
    expect(back.every((value, i) => value === bytes[i])).toBe(true);
  });

  it("hides every file from another workspace's key: 404", async () => {
    const created = await client.files.create({ file: jsonl(requestLine("x")), purpose: "batch" });
    const intruder = openAIClient((await newWorkspace()).key);
    await expectRefused(intruder.files.retrieve(created.id), { status: 404, code: "file_not_found" });
    await expectRefused(intruder.files.content(created.id), { status: 404 });
    await expectRefused(intruder.files.delete(created.id), { status: 404 });
    expect((await intruder.files.list()).data).toEqual([]);
    expect((await client.files.retrieve(created.id)).id).toBe(created.id);
  });
});

describe("upload checks: 400 naming the line or field, nothing stored", () => {
  let fresh: TestWorkspace;
  let freshClient: OpenAI;
  beforeAll(async () => {
    fresh = await newWorkspace((scenario) => ({ providers: simulatorProviders(scenario), files: { maxBytes: 1000 } }));
    freshClient = openAIClient(fresh.key);
  });

  const cases: { name: string; upload: () => Promise<unknown>; status?: number; code?: string; param?: string; message?: RegExp }[] = [
    { name: "a line that is not JSON", upload: () => freshClient.files.create({ file: jsonl(requestLine("a"), "{not json"), purpose: "batch" }), code: "invalid_jsonl", param: "line 2", message: /Line 2/ },
    { name: "a line that is not a request", upload: () => freshClient.files.create({ file: jsonl(JSON.stringify({ hello: "world" })), purpose: "batch" }), code: "invalid_batch_line", message: /Line 1/ },
    { name: "a duplicate custom_id", upload: () => freshClient.files.create({ file: jsonl(requestLine("a"), requestLine("b"), requestLine("a")), purpose: "batch" }), code: "duplicate_custom_id", param: "custom_id", message: /Line 3.*first on line 1/ },
    { name: "a url that is not a batch endpoint", upload: () => freshClient.files.create({ file: jsonl(requestLine("a", { url: "/v1/images/generations" })), purpose: "batch" }), param: "url", message: /Line 1/ },
    { name: "a method other than POST", upload: () => freshClient.files.create({ file: jsonl(requestLine("a", { method: "GET" })), purpose: "batch" }), param: "method" },
    { name: "an empty batch file", upload: () => freshClient.files.create({ file: jsonl(""), purpose: "batch" }), code: "empty_file" },
    { name: "an unknown purpose", upload: () => freshClient.files.create({ file: jsonl(requestLine("a")), purpose: "vision-ish" as "batch" }), param: "purpose" },
    { name: "a file over the workspace's size limit", upload: () => freshClient.files.create({ file: new File(["x".repeat(1001)], "big.txt"), purpose: "user_data" }), code: "file_too_large", param: "file" },
    {
      name: "no purpose",
      upload: () => {
        const form = new FormData();
        form.append("file", new File(["abc"], "a.txt"));
        return gateway("/v1/files", { method: "POST", headers: { authorization: `Bearer ${fresh.key}` }, body: form }).then(async (r) => {
          if (!r.ok) throw OpenAI.APIError.generate(r.status, await r.json(), undefined, r.headers);
        });
      },
      param: "purpose",
    },
  ];

  for (const testCase of cases) {
    it(`refuses ${testCase.name}`, async () => {
      await expectRefused(testCase.upload(), { status: testCase.status ?? 400, ...testCase });
      expect((await freshClient.files.list()).data).toEqual([]);
      expect(await storedObjects(fresh.id)).toEqual([]);
    });
  }

  it("accepts the same lines once they are valid (the checks are not blanket refusals)", async () => {
    const created = await freshClient.files.create({ file: jsonl(requestLine("a"), requestLine("b")), purpose: "batch" });
    expect(created.purpose).toBe("batch");
    await freshClient.files.delete(created.id);
  });
});
