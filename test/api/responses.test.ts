import { Agent, OpenAIResponsesModel, run, setTracingDisabled, tool } from "@openai/agents";
import { env } from "cloudflare:workers";
import { APIError } from "openai";
import { zodTextFormat } from "openai/helpers/zod";
import type { ResponseInputItem, ResponseStreamEvent } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { GatewayConfigInput } from "../../src/config/schema";
import { callGateway, gateway, newWorkspace, openAIClient, readSSE, scriptFaults, simulatorOrigin, simulatorProviders, upstreamRequests, type UpstreamRequest } from "../helpers";
import { readUntilEnd } from "../routing/setup";
import { addKey } from "../tenancy/tenancy-helpers";

/**
 * The Responses API through the official `openai` SDK (and the OpenAI Agents SDK) on every kind of provider the
 * gateway translates to, against the simulators.
 */

const BEDROCK_CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0";
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

type ProviderCase = {
  name: string;
  /** The provider's settings, at the simulator under `scenario`. */
  provider: (scenario: string) => GatewayConfigInput["providers"][string];
  model: string;
  /** The upstream body asks for structured output in the provider's own terms. */
  structured: (body: Record<string, unknown>) => boolean;
  /** The upstream body carries the test image in the provider's own form. */
  image: (body: Record<string, unknown>) => boolean;
};

const json = (value: unknown) => JSON.stringify(value);

const PROVIDERS: ProviderCase[] = [
  {
    name: "OpenAI",
    provider: (scenario) => simulatorProviders(scenario).openai!,
    model: "gpt-4o-mini",
    structured: (body) => json(body.response_format).includes('"type":"json_schema"'),
    image: (body) => json(body.messages).includes(`"image_url":{"url":"data:image/png;base64,${PNG}"`),
  },
  {
    name: "Anthropic",
    provider: (scenario) => simulatorProviders(scenario).anthropic!,
    model: "claude-sonnet-4-5",
    structured: (body) => String(body.system).includes("JSON Schema"),
    image: (body) => json(body.messages).includes(`"source":{"type":"base64","media_type":"image/png","data":"${PNG}"}`),
  },
  {
    name: "Gemini",
    provider: (scenario) => ({ type: "gemini", baseURL: `${simulatorOrigin()}/s/${scenario}/gemini`, apiKey: { env: "GEMINI_API_KEY" } }),
    model: "gemini-2.5-flash",
    structured: (body) => json(body.generationConfig).includes('"responseMimeType":"application/json"'),
    image: (body) => json(body.contents).includes(`"inlineData":{"mimeType":"image/png","data":"${PNG}"}`),
  },
  {
    name: "Bedrock",
    provider: (scenario) => ({
      type: "bedrock",
      region: "us-east-1",
      accessKeyId: { env: "AWS_ACCESS_KEY_ID" },
      secretAccessKey: { env: "AWS_SECRET_ACCESS_KEY" },
      baseURL: `${simulatorOrigin()}/s/${scenario}/bedrock`,
    }),
    model: BEDROCK_CLAUDE,
    structured: (body) => json(body.system).includes("JSON Schema"),
    image: (body) => json(body.messages).includes(`"image":{"format":"png","source":{"bytes":"${PNG}"}}`),
  },
  {
    name: "OpenAI-compatible (Mistral preset)",
    provider: (scenario) => ({ type: "openai-compatible", preset: "mistral", baseURL: `${simulatorOrigin()}/s/${scenario}/compat/strict/v1`, apiKey: { env: "COMPAT_API_KEY" } }),
    model: "mistral-small-latest",
    structured: (body) => json(body.response_format).includes('"type":"json_schema"'),
    image: (body) => json(body.messages).includes(`data:image/png;base64,${PNG}`),
  },
];

/** A workspace whose route `m` goes to the case's provider (named `p`). */
const workspaceFor = (provider: ProviderCase) =>
  newWorkspace((scenario) => ({ providers: { p: provider.provider(scenario) }, routes: { m: { strategy: "single", target: { provider: "p", model: provider.model } } } }));

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

/** Every text the upstream request carries, in the order it appears. */
const textsIn = (upstream: UpstreamRequest | undefined) => json(upstream?.body);

function expectInOrder(haystack: string, needles: string[]): void {
  let from = 0;
  for (const needle of needles) {
    const at = haystack.indexOf(needle, from);
    expect(at, `"${needle}" after position ${from}`).toBeGreaterThanOrEqual(0);
    from = at + needle.length;
  }
}

describe.each(PROVIDERS)("POST /v1/responses on $name", (provider) => {
  it("answers text with instructions and usage, and stores the response", async () => {
    const ws = await workspaceFor(provider);
    const client = openAIClient(ws.key);
    const response = await client.responses.create({ model: "m", instructions: "Be brief.", input: "Hi there", max_output_tokens: 200, temperature: 0.5 });
    expect(response.id).toMatch(/^resp_[0-9a-f]{2}[A-Za-z0-9]{40}$/);
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe("Hello from the simulator. You said: Hi there");
    expect(response.instructions).toBe("Be brief.");
    expect(response.usage!.input_tokens).toBeGreaterThan(0);
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(textsIn(upstream)).toContain("Be brief.");
    expect(textsIn(upstream)).toContain("Hi there");
    expect((await client.responses.retrieve(response.id)).output_text).toBe(response.output_text);
  });

  it("calls a function tool and answers from its output", async () => {
    const ws = await workspaceFor(provider);
    const client = openAIClient(ws.key);
    const input: ResponseInputItem[] = [{ role: "user", content: "Weather in Paris?" }];
    const first = await client.responses.create({ model: "m", input, tools: [weatherTool], store: false });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call?.type === "function_call" && call.name).toBe("get_weather");
    expect(call?.type === "function_call" && JSON.parse(call.arguments)).toEqual({ city: "Paris" });
    expect(first).toMatchObject({ store: false });
    // Stateless: the client sends the whole conversation back, the call and its output included.
    const second = await client.responses.create({
      model: "m",
      tools: [weatherTool],
      input: [...input, ...(first.output as ResponseInputItem[]), { type: "function_call_output", call_id: call!.type === "function_call" ? call!.call_id : "", output: "Sunny, 21 C" }],
    });
    expect(second.output_text).toContain("The tool said:");
    expect(second.output_text).toContain("Sunny, 21 C");
  });

  it("returns structured output (text.format json_schema) that the SDK parses", async () => {
    const ws = await workspaceFor(provider);
    await scriptFaults(ws.scenario, [{ text: '{"city":"Paris","celsius":21}' }]);
    const Weather = z.object({ city: z.string(), celsius: z.number() });
    const parsed = await openAIClient(ws.key).responses.parse({ model: "m", input: "Weather in Paris as JSON", text: { format: zodTextFormat(Weather, "weather") } });
    expect(parsed.output_parsed).toEqual({ city: "Paris", celsius: 21 });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(provider.structured(upstream!.body)).toBe(true);
  });

  it("passes an input image in the provider's own form", async () => {
    const ws = await workspaceFor(provider);
    const response = await openAIClient(ws.key).responses.create({
      model: "m",
      input: [{ role: "user", content: [{ type: "input_text", text: "What is this?" }, { type: "input_image", image_url: `data:image/png;base64,${PNG}`, detail: "low" }] }],
    });
    expect(response.status).toBe("completed");
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(provider.image(upstream!.body)).toBe(true);
  });

  it("streams the Responses event sequence (responses.stream), usage in response.completed", async () => {
    const ws = await workspaceFor(provider);
    const stream = openAIClient(ws.key).responses.stream({ model: "m", input: "Hi there" });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(final.output_text).toBe("Hello from the simulator. You said: Hi there");
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    expect(types.filter((t) => t === "response.output_text.delta").length).toBeGreaterThan(1);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, index) => index));
    const completed = events.at(-1);
    expect(completed?.type === "response.completed" && completed.response.usage?.output_tokens).toBeGreaterThan(0);
    expect((await openAIClient(ws.key).responses.retrieve(final.id)).status).toBe("completed");
  });

  it("continues a conversation over three turns with previous_response_id", async () => {
    const ws = await workspaceFor(provider);
    const client = openAIClient(ws.key);
    const first = await client.responses.create({ model: "m", instructions: "Be kind.", input: "My name is Ada." });
    const second = await client.responses.create({ model: "m", input: "What is my name?", previous_response_id: first.id });
    const stream = client.responses.stream({ model: "m", input: "Thanks!", previous_response_id: second.id });
    const third = await stream.finalResponse();
    expect(third.previous_response_id).toBe(second.id);
    expect(third.output_text).toBe("Hello from the simulator. You said: Thanks!");
    // A conversation stays in its first response's shard.
    expect(new Set([first.id, second.id, third.id].map((id) => id.slice(5, 7))).size).toBe(1);
    const upstream = await upstreamRequests(ws.scenario);
    expect(upstream).toHaveLength(3);
    // Instructions are not carried over (as at OpenAI); every earlier turn is.
    expect(textsIn(upstream[2])).not.toContain("Be kind.");
    expectInOrder(textsIn(upstream[2]), ["My name is Ada.", "You said: My name is Ada.", "What is my name?", "You said: What is my name?", "Thanks!"]);
  });
});

describe("Responses streaming", () => {
  it("streams a function call: output_item.added, function_call_arguments.delta/.done, output_item.done", async () => {
    const ws = await newWorkspace();
    const stream = openAIClient(ws.key).responses.stream({ model: "anthropic/claude-sonnet-4-5", input: "Weather in Paris?", tools: [weatherTool] });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type).filter((t) => t !== "response.function_call_arguments.delta");
    expect(types).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.function_call_arguments.done", "response.output_item.done", "response.completed"]);
    const deltas = events.flatMap((e) => (e.type === "response.function_call_arguments.delta" ? [e.delta] : []));
    expect(deltas.length).toBeGreaterThan(1);
    expect(JSON.parse(deltas.join(""))).toEqual({ city: "Paris" });
    const done = events.find((e) => e.type === "response.function_call_arguments.done");
    expect(done?.type === "response.function_call_arguments.done" && done.name).toBe("get_weather");
    const final = await stream.finalResponse();
    expect(final.output).toMatchObject([{ type: "function_call", name: "get_weather", status: "completed", call_id: expect.stringMatching(/^toolu_/) }]);
  });

  it("a stream that fails after its first byte ends in response.failed and an error event, then fails — never completed", async () => {
    const ws = await newWorkspace();
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 3, drop: "abort" }, { dropAfterEvents: 3, drop: "abort" }]);
    const res = await callGateway(ws.key, "/v1/responses", { model: "openai/gpt-4o-mini", input: "Tell me a long story", stream: true });
    expect(res.status).toBe(200);
    const { text, failed } = await readUntilEnd(res);
    expect(failed).toBe(true);
    const frames = text.split("\n\n").filter((f) => f.trim() !== "");
    const names = frames.map((f) => /^event: (.+)$/m.exec(f)?.[1]);
    expect(names).toContain("response.output_text.delta");
    expect(names.slice(-2)).toEqual(["response.failed", "error"]);
    expect(names).not.toContain("response.completed");
    const failedEvent = JSON.parse(/^data: (.+)$/m.exec(frames.at(-2)!)![1]!);
    expect(failedEvent.response).toMatchObject({ status: "failed", error: { code: "stream_interrupted" }, output: [{ type: "message", status: "incomplete" }] });
    // The SDK surfaces it as an error, not as a final response.
    const stream = openAIClient(ws.key).responses.stream({ model: "openai/gpt-4o-mini", input: "Again" });
    await expect(stream.finalResponse()).rejects.toThrow();
    // Nothing was stored for a failed response.
    const id = failedEvent.response.id as string;
    expect((await gateway(`/v1/responses/${id}`, { headers: { authorization: `Bearer ${ws.key}` } })).status).toBe(404);
  });

  it("an answer cut by max_output_tokens is incomplete, as JSON and as the stream's last event", async () => {
    const ws = await newWorkspace();
    const body = { model: "anthropic/claude-sonnet-4-5", input: "Please write a long answer", max_output_tokens: 3 };
    const json = (await (await callGateway(ws.key, "/v1/responses", body)).json()) as { status: string; incomplete_details: unknown; output: { status: string }[] };
    expect(json).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output: [{ status: "incomplete" }] });
    const frames = await readSSE(await callGateway(ws.key, "/v1/responses", { ...body, stream: true }));
    expect(frames.at(-1)?.event).toBe("response.incomplete");
    expect(JSON.parse(frames.at(-1)!.data).response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
  });

  it("falls back before the first byte: a failing primary, the backup answers the stream", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: { primary: simulatorProviders(`${scenario}-primary`).openai!, backup: simulatorProviders(scenario).anthropic! },
      routes: { r: { strategy: "fallback", targets: [{ provider: "primary", model: "gpt-4o-mini" }, { provider: "backup", model: "claude-haiku-4-5" }] } },
    }));
    await scriptFaults(`${ws.scenario}-primary`, [{ status: 503 }]);
    const res = await callGateway(ws.key, "/v1/responses", { model: "r", input: "Hi", stream: true });
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(res.headers.get("x-switchyard-attempts")).toBe("2");
    const frames = await readSSE(res);
    expect(frames.at(-1)?.event).toBe("response.completed");
    expect(JSON.parse(frames.at(-1)!.data).response.output[0].content[0].text).toBe("Hello from the simulator. You said: Hi");
  });
});

describe("Responses through the gateway's pipeline", () => {
  it("serves identical requests from the cache, each as its own stored response", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { faq: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, cache: { mode: "exact", ttl: 600 } } },
    }));
    const body = { model: "faq", input: "What are your hours?" };
    const miss = await callGateway(ws.key, "/v1/responses", body);
    expect(miss.headers.get("x-switchyard-cache")).toBe("MISS");
    const first = (await miss.json()) as { id: string; output: unknown[] };
    let hit: Response | undefined;
    // The first answer is cached after its response (waitUntil): ask until it is there.
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && hit?.headers.get("x-switchyard-cache") !== "HIT"; ) hit = await callGateway(ws.key, "/v1/responses", body);
    expect(hit?.headers.get("x-switchyard-cache")).toBe("HIT");
    const second = (await hit!.json()) as { id: string; output: { content: { text: string }[] }[] };
    expect(second.id).not.toBe(first.id);
    expect(second.output[0]!.content[0]!.text).toBe("Hello from the simulator. You said: What are your hours?");
    expect((await openAIClient(ws.key).responses.retrieve(second.id)).output_text).toBe(second.output[0]!.content[0]!.text);
    // The stored answer also serves a stream, as the Responses event sequence.
    const streamed = await callGateway(ws.key, "/v1/responses", { ...body, stream: true });
    expect(streamed.headers.get("x-switchyard-cache")).toBe("HIT");
    const frames = await readSSE(streamed);
    expect(frames[0]?.event).toBe("response.created");
    expect(frames.at(-1)?.event).toBe("response.completed");
    expect(JSON.parse(frames.at(-1)!.data).response.output[0].content[0].text).toBe("Hello from the simulator. You said: What are your hours?");
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("passes tool_choice, parallel_tool_calls, text.format json_object, sampling, metadata and the user on in each provider's terms", async () => {
    const ws = await newWorkspace();
    const otherTool = { ...weatherTool, name: "get_time", description: "The time in a city" };
    const body = {
      input: "Weather in Paris?",
      tools: [weatherTool, otherTool],
      tool_choice: { type: "function", name: "get_weather" },
      parallel_tool_calls: false,
      text: { format: { type: "json_object" } },
      temperature: 0.3,
      top_p: 0.8,
      user: "end-user-7",
      metadata: { ticket: "T-9" },
    };
    for (const model of ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"]) expect((await callGateway(ws.key, "/v1/responses", { model, ...body })).status).toBe(200);
    const [openai, anthropic] = (await upstreamRequests(ws.scenario)).map((request) => request.body);
    expect(openai).toMatchObject({
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      response_format: { type: "json_object" },
      temperature: 0.3,
      top_p: 0.8,
      user: "end-user-7",
      metadata: { ticket: "T-9" },
    });
    expect((openai!.tools as unknown[]).length).toBe(2);
    expect(anthropic).toMatchObject({ tool_choice: { type: "tool", name: "get_weather", disable_parallel_tool_use: true }, temperature: 0.3, top_p: 0.8, metadata: { user_id: "end-user-7" } });
    expect(String(anthropic!.system)).toContain("JSON object");
    // allowed_tools narrows the tools offered; the mode is the choice.
    await callGateway(ws.key, "/v1/responses", { model: "openai/gpt-4o-mini", input: "Time?", tools: [weatherTool, otherTool], tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "get_time" }] } });
    const narrowed = (await upstreamRequests(ws.scenario))[2]!.body;
    expect(narrowed.tool_choice).toBe("required");
    expect(json(narrowed.tools)).toContain('"name":"get_time"');
    expect(json(narrowed.tools)).not.toContain('"name":"get_weather"');
  });

  it("retries a failed attempt on the same target, with the same headers as chat completions", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, retry: { attempts: 2, backoff: { initialMs: 0, jitter: "none" } } } },
    }));
    await scriptFaults(ws.scenario, [{ status: 503 }]);
    const res = await callGateway(ws.key, "/v1/responses", { model: "smart", input: "Hi" }, { "x-request-id": "resp-retry-1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("resp-retry-1");
    expect(res.headers.get("x-switchyard-attempts")).toBe("2");
    expect(res.headers.get("x-switchyard-provider")).toBe("openai");
    expect(res.headers.get("x-switchyard-model")).toBe("gpt-4o-mini");
    expect(((await res.json()) as { status: string }).status).toBe("completed");
    expect(await upstreamRequests(ws.scenario)).toHaveLength(2);
    // The same gateway headers as a chat completion retried the same way.
    await scriptFaults(ws.scenario, [{ status: 503 }]);
    const chat = await callGateway(ws.key, "/v1/chat/completions", { model: "smart", messages: [{ role: "user", content: "Hi" }] });
    const gatewayHeaders = (r: Response) => [...r.headers.keys()].filter((name) => name.startsWith("x-")).sort();
    expect(gatewayHeaders(res)).toEqual(gatewayHeaders(chat));
    expect(gatewayHeaders(res)).toEqual(expect.arrayContaining(["x-request-id", "x-switchyard-attempts", "x-switchyard-overhead-ms"]));
  });

  it("passes an upstream error on in the OpenAI error shape, as chat completions does", async () => {
    const ws = await newWorkspace();
    await scriptFaults(ws.scenario, [{ status: 400, message: "Invalid value for 'temperature'." }, { status: 500, message: "The server had an error" }]);
    const refused = await callGateway(ws.key, "/v1/responses", { model: "openai/gpt-4o-mini", input: "x" });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { message: "openai: Invalid value for 'temperature'.", type: "invalid_request_error" } });
    const broken = await callGateway(ws.key, "/v1/responses", { model: "openai/gpt-4o-mini", input: "x" });
    expect(broken.status).toBe(502);
    expect(broken.headers.get("x-switchyard-upstream-status")).toBe("500");
    expect(await broken.json()).toMatchObject({ error: { type: "upstream_error" } });
  });

  it("coalesces identical concurrent requests into one upstream call, each answered as its own stored response", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      routes: { together: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" }, coalesce: { maxWaitMs: 10_000 } } },
    }));
    await scriptFaults(ws.scenario, [], { delayMs: 400 });
    const responses = await Promise.all(Array.from({ length: 5 }, () => callGateway(ws.key, "/v1/responses", { model: "together", input: "Five at once" })));
    expect(responses.map((res) => res.status)).toEqual(Array(5).fill(200));
    expect(responses.filter((res) => res.headers.get("x-switchyard-coalesced") === "true")).toHaveLength(4);
    const bodies = await Promise.all(responses.map(async (res) => (await res.json()) as { id: string; output: { content: { text: string }[] }[] }));
    expect(new Set(bodies.map((body) => body.id)).size).toBe(5);
    for (const body of bodies) expect(body.output[0]!.content[0]!.text).toBe("Hello from the simulator. You said: Five at once");
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
    const client = openAIClient(ws.key);
    for (const body of bodies) expect((await client.responses.retrieve(body.id)).id).toBe(body.id);
  });

  it("applies the key's budget: a request whose max_output_tokens would exceed it never reaches the upstream", async () => {
    const ws = await newWorkspace();
    const limited = await addKey(ws.id, { budget: { usd: 0.0001, period: "day" } });
    expect((await callGateway(limited.key, "/v1/responses", { model: "smart", input: "small", max_output_tokens: 20 })).status).toBe(200);
    const refused = await callGateway(limited.key, "/v1/responses", { model: "smart", input: "big", max_output_tokens: 100_000 });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { type: "budget_exceeded", code: "budget_exceeded" } });
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });

  it("applies the key's rate limit", async () => {
    const ws = await newWorkspace();
    const limited = await addKey(ws.id, { rateLimit: { rpm: 1 } });
    expect((await callGateway(limited.key, "/v1/responses", { model: "smart", input: "one" })).status).toBe(200);
    const refused = await callGateway(limited.key, "/v1/responses", { model: "smart", input: "two" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).not.toBeNull();
  });

  it("applies the workspace's guardrails: the prompt and the answer, streamed, with reasoning left out", async () => {
    const ws = await newWorkspace((scenario) => ({
      providers: simulatorProviders(scenario),
      guardrails: {
        policies: { pii: { input: [{ name: "pii", detect: ["email"], action: "redact" }], output: [{ name: "pii-out", detect: ["email"], action: "redact" }] } },
        default: "pii",
      },
    }));
    const stream = openAIClient(ws.key).responses.stream({ model: "anthropic/claude-sonnet-4-5", input: "Write to ada@example.com", reasoning: { effort: "low", summary: "auto" } });
    const final = await stream.finalResponse();
    expect(final.output_text).not.toContain("ada@example.com");
    expect(final.output.map((item) => item.type)).toEqual(["message"]);
    expect(textsIn((await upstreamRequests(ws.scenario))[0])).not.toContain("ada@example.com");
    await scriptFaults(ws.scenario, [{ text: "Mail bob@example.com" }]);
    const answer = await openAIClient(ws.key).responses.create({ model: "openai/gpt-4o-mini", input: "Who?" });
    expect(answer.output_text).not.toContain("bob@example.com");
  });

  it.each([false, true])("records the usage event with operation `responses` (stream: %s)", async (stream) => {
    const ws = await newWorkspace();
    const requestId = `resp-usage-${Math.random().toString(36).slice(2, 10)}`;
    const res = await callGateway(ws.key, "/v1/responses", { model: "smart", input: "Count me", stream }, { "x-request-id": requestId });
    expect(res.status).toBe(200);
    await res.text();
    let row: Record<string, unknown> | null = null;
    for (let i = 0; i < 150 && !row; i++) {
      row = await env.USAGE_DB.prepare("SELECT operation, prompt_tokens, completion_tokens, provider, stream FROM usage_events WHERE client_request_id = ?").bind(requestId).first();
      if (!row) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(row).toMatchObject({ operation: "responses", provider: "openai" });
    expect(Boolean(row!.stream)).toBe(stream);
    expect(Number(row!.prompt_tokens)).toBeGreaterThan(0);
    expect(Number(row!.completion_tokens)).toBeGreaterThan(0);
  });
});

describe("reasoning.effort", () => {
  it("maps to each provider's thinking setting", async () => {
    const upstreamOf = async (provider: ProviderCase, model = provider.model) => {
      const ws = await workspaceFor({ ...provider, model });
      const res = await callGateway(ws.key, "/v1/responses", { model: "m", input: "Think", reasoning: { effort: "high" } });
      expect(res.status).toBe(200);
      return (await upstreamRequests(ws.scenario))[0]!.body;
    };
    const [openai, anthropic, gemini, bedrock] = await Promise.all(PROVIDERS.slice(0, 4).map((p) => upstreamOf(p)));
    expect(openai!.reasoning_effort).toBe("high");
    // Claude: a thinking budget inside max_tokens, which grows by the budget when the client set no limit.
    expect(anthropic).toMatchObject({ thinking: { type: "enabled", budget_tokens: 16384 }, max_tokens: 16384 + 4096 });
    expect(gemini!.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 24576 } });
    expect(bedrock).toMatchObject({ additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 16384 } }, inferenceConfig: { maxTokens: 16384 + 4096 } });
  });

  it.each(PROVIDERS.filter((p) => p.name === "Anthropic" || p.name === "Bedrock"))("keeps $name's signed thinking across a tool call (stored and stateless)", async (provider) => {
    const ws = await workspaceFor(provider);
    const client = openAIClient(ws.key);
    const reasoning = { effort: "low" as const, summary: "auto" as const };
    const first = await client.responses.create({ model: "m", input: "Weather in Paris?", tools: [weatherTool], reasoning, max_output_tokens: 3000 });
    expect(first.output.map((item) => item.type)).toEqual(["reasoning", "function_call"]);
    const thought = first.output[0]!;
    expect(thought.type === "reasoning" && thought.summary[0]?.text).toBe("Let me think about: Weather in Paris?");
    expect(thought.type === "reasoning" && thought.encrypted_content).toBeTruthy();
    const call = first.output[1]!;
    const output: ResponseInputItem = { type: "function_call_output", call_id: call.type === "function_call" ? call.call_id : "", output: "Sunny" };
    // Stored: the gateway sends the thinking back with its turn; the simulator checks the signature.
    const stored = await client.responses.create({ model: "m", previous_response_id: first.id, input: [output], tools: [weatherTool], reasoning, max_output_tokens: 3000 });
    expect(stored.output_text).toContain("Sunny");
    // Stateless: the reasoning item the client got carries it.
    const stateless = await client.responses.create({ model: "m", input: [{ role: "user", content: "Weather in Paris?" }, ...(first.output as ResponseInputItem[]), output], tools: [weatherTool], reasoning, max_output_tokens: 3000 });
    expect(stateless.output_text).toContain("Sunny");
    const upstream = await upstreamRequests(ws.scenario);
    expect(json(upstream[1]!.body)).toContain("Let me think about: Weather in Paris?");
  });

  it("streams reasoning summaries before the answer", async () => {
    const ws = await newWorkspace();
    const stream = openAIClient(ws.key).responses.stream({ model: "anthropic/claude-sonnet-4-5", input: "Hi", reasoning: { effort: "minimal", summary: "auto" } });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toContain("response.reasoning_summary_text.delta");
    expect(types.indexOf("response.reasoning_summary_text.done")).toBeLessThan(types.indexOf("response.output_text.delta"));
    const final = await stream.finalResponse();
    expect(final.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    expect(final.output_text).toBe("Hello from the simulator. You said: Hi");
  });
});

describe("an OpenAI Agents SDK agent through the gateway", () => {
  setTracingDisabled(true);

  it.each(["anthropic/claude-sonnet-4-5", "gemini/gemini-2.5-flash"])("runs a two-step task with one function tool on %s", async (model) => {
    const ws = await newWorkspace((scenario) => ({
      providers: { ...simulatorProviders(scenario), gemini: { type: "gemini", baseURL: `${simulatorOrigin()}/s/${scenario}/gemini`, apiKey: { env: "GEMINI_API_KEY" } } },
    }));
    const calls: string[] = [];
    const getWeather = tool({
      name: "get_weather",
      description: "The weather in a city",
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        calls.push(city);
        return `Sunny in ${city}`;
      },
    });
    const agent = new Agent({ name: "Forecaster", instructions: "Answer with the weather tool.", tools: [getWeather], model: new OpenAIResponsesModel(openAIClient(ws.key), model) });
    const result = await run(agent, "What is the weather in Paris?");
    expect(calls).toEqual(["Paris"]);
    expect(result.finalOutput).toContain("Sunny in Paris");
    const streamed = await run(agent, "And in Paris again?", { stream: true });
    for await (const _event of streamed) {
      // drained: the agent's events
    }
    await streamed.completed;
    expect(streamed.finalOutput).toContain("Sunny in Paris");
    expect(calls).toEqual(["Paris", "Paris"]);
    // Four model calls: a tool call and a final answer, twice.
    expect(await upstreamRequests(ws.scenario)).toHaveLength(4);
  });
});

describe("built-in tools", () => {
  it("are refused with a 400 that names the tool", async () => {
    const ws = await newWorkspace();
    const error = await openAIClient(ws.key)
      .responses.create({ model: "smart", input: "Search", tools: [{ type: "web_search_preview" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).param).toBe("tools[0].type");
    expect((error as APIError).message).toContain("web_search_preview");
    expect(await upstreamRequests(ws.scenario)).toHaveLength(0);
  });
});
