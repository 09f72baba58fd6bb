import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/schema";
import { TEST_PROVIDER_KEYS } from "../fixtures";
import { anthropicClient, callGateway, newWorkspace, openAIClient, scriptFaults, simulatorOrigin, upstreamRequests } from "../helpers";
import { embeddingOf } from "../simulators/openai";

function azureConfig(apiStyle: "deployments" | "v1" = "deployments", apiKeyEnv = "AZURE_API_KEY") {
  return (scenario: string): GatewayConfigInput => ({
    providers: {
      az: { type: "azure", baseURL: `${simulatorOrigin()}/s/${scenario}/azure`, apiKey: { env: apiKeyEnv }, apiVersion: "2024-10-21", apiStyle },
    },
    routes: { prod: { strategy: "single", target: { provider: "az", model: apiStyle === "v1" ? "gpt-4o" : "gpt4o-prod" } } },
  });
}

const weatherTool = {
  type: "function" as const,
  function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

describe("Azure OpenAI", () => {
  it("calls a deployment with the api-key header and api-version, model from the URL", async () => {
    const ws = await newWorkspace(azureConfig());
    const completion = await openAIClient(ws.key).chat.completions.create({ model: "prod", messages: [{ role: "user", content: "Hi Azure" }], max_tokens: 50 });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi Azure");
    expect(completion.model).toBe("gpt-4o-2024-08-06");
    expect(completion.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 11 });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21");
    expect(upstream?.headers["api-key"]).toBe(TEST_PROVIDER_KEYS.AZURE_API_KEY);
    expect(upstream?.headers.authorization).toBeUndefined();
    expect(upstream?.body.model).toBeUndefined();
  });

  it("uses the v1 GA path with the model in the body when apiStyle is v1", async () => {
    const ws = await newWorkspace(azureConfig("v1"));
    const completion = await openAIClient(ws.key).chat.completions.create({ model: "prod", messages: [{ role: "user", content: "Hi v1" }] });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi v1");
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/openai/v1/chat/completions");
    expect(upstream?.body.model).toBe("gpt-4o");
  });

  it("streams with include_usage past Azure's prompt_filter_results chunk", async () => {
    const ws = await newWorkspace(azureConfig());
    const stream = await openAIClient(ws.key).chat.completions.create({ model: "prod", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Stream please" }] });
    let text = "";
    const ids = new Set<string>();
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of stream) {
      ids.add(chunk.id);
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello from the simulator. You said: Stream please");
    expect([...ids]).toHaveLength(1);
    expect([...ids][0]).toMatch(/^chatcmpl-sim/);
    expect(usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 13 });
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.stream_options).toEqual({ include_usage: true });
  });

  it("calls a tool, plain and streamed", async () => {
    const ws = await newWorkspace(azureConfig());
    const client = openAIClient(ws.key);
    const plain = await client.chat.completions.create({ model: "prod", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    const call = plain.choices[0]?.message.tool_calls?.[0];
    expect(plain.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });

    const stream = await client.chat.completions.create({ model: "prod", stream: true, messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) args += delta.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    expect(finish).toBe("tool_calls");
  });

  it("answers /v1/messages with the Anthropic SDK, plain and streamed", async () => {
    const ws = await newWorkspace(azureConfig());
    const client = anthropicClient(ws.key);
    const message = await client.messages.create({ model: "prod", max_tokens: 100, messages: [{ role: "user", content: "Hello Azure" }] });
    expect(message.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Hello Azure" });
    const streamed = await client.messages.stream({ model: "prod", max_tokens: 100, messages: [{ role: "user", content: "Stream Azure" }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: "text", text: "Hello from the simulator. You said: Stream Azure" });
    expect(streamed.usage.output_tokens).toBe(12);
  });

  it("embeds through a deployment", async () => {
    const ws = await newWorkspace(azureConfig());
    const result = await openAIClient(ws.key).embeddings.create({ model: "az/embed-small", input: ["alpha", "beta"], encoding_format: "float" });
    expect(result.data.map((d) => d.embedding)).toEqual([embeddingOf("alpha"), embeddingOf("beta")]);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.path).toBe("/openai/deployments/embed-small/embeddings?api-version=2024-10-21");
  });

  it("keeps Azure's status and message, and never shows the key", async () => {
    const ws = await newWorkspace(azureConfig("deployments", "OPENAI_API_KEY"));
    await scriptFaults(ws.scenario, [{ status: 429, message: "Requests to the ChatCompletions_Create Operation have exceeded the token rate limit." }]);
    const limited = await callGateway(ws.key, "/v1/chat/completions", { model: "prod", messages: [{ role: "user", content: "Hi" }] });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { message: string } }).error.message).toBe("az: Requests to the ChatCompletions_Create Operation have exceeded the token rate limit.");

    const missing = await callGateway(ws.key, "/v1/chat/completions", { model: "az/no-such-deployment", messages: [{ role: "user", content: "Hi" }] });
    expect(missing.status).toBe(404);
    const text = await missing.text();
    expect(JSON.parse(text).error.code).toBe("DeploymentNotFound");
    expect(text).not.toContain(TEST_PROVIDER_KEYS.OPENAI_API_KEY);
  });
});
