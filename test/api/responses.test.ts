import { describe, expect, it } from "vitest";
import { newWorkspace, openAIClient, upstreamRequests } from "../helpers";

describe("smoke", () => {
  it("creates a response", async () => {
    const ws = await newWorkspace();
    const client = openAIClient(ws.key);
    const response = await client.responses.create({ model: "smart", input: "Hi there" });
    console.log(JSON.stringify(response, null, 1));
    const again = await client.responses.retrieve(response.id);
    expect(again.id).toBe(response.id);
    const stream = client.responses.stream({ model: "anthropic/claude-sonnet-4-5", input: "Hi", previous_response_id: response.id });
    const events = [];
    for await (const event of stream) events.push(event.type);
    console.log(events.join(","));
    const final = await stream.finalResponse();
    console.log(final.output_text);
    console.log(JSON.stringify((await upstreamRequests(ws.scenario)).map((r) => r.body)));
  });
});
