import { describe, expect, it } from "vitest";
import { callGateway, newWorkspace, openAIClient, readSSE, upstreamRequests } from "../helpers";

describe("POST /v1/chat/completions", () => {
  it("answers through a route with the OpenAI SDK", async () => {
    const ws = await newWorkspace();
    const client = openAIClient(ws.key);
    const completion = await client.chat.completions.create({ model: "smart", messages: [{ role: "user", content: "Hi there" }] });
    expect(completion.choices[0]?.message.content).toBe("Hello from the simulator. You said: Hi there");
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream?.body.model).toBe("gpt-4o-mini");
  });

  it("streams with include_usage", async () => {
    const ws = await newWorkspace();
    const res = await callGateway(ws.key, "/v1/chat/completions", { model: "openai/gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Hi" }] });
    expect(res.status).toBe(200);
    const frames = await readSSE(res);
    expect(frames.at(-1)?.data).toBe("[DONE]");
    const usage = JSON.parse(frames.at(-2)!.data);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.total_tokens).toBeGreaterThan(0);
  });
});
