import type { GatewayConfigInput } from "../../src/config/schema";
import { callGateway, newWorkspace, simulatorOrigin, upstreamRequests, type TestWorkspace } from "../helpers";

/**
 * Workspaces for routing tests: two providers on separate simulator scenarios, so faults scripted for one never
 * reach the other. `primary` is the OpenAI simulator, `backup` the Anthropic one; `dead` is a closed port.
 */
export type RoutingWorkspace = TestWorkspace & { primary: string; backup: string };

/** A local port nothing listens on: connecting to it is refused at once. */
export const CLOSED_PORT_ORIGIN = "http://127.0.0.1:9";

export async function routingWorkspace(rest: Omit<GatewayConfigInput, "providers">): Promise<RoutingWorkspace> {
  const ws = await newWorkspace((scenario) => ({
    providers: {
      primary: { type: "openai", baseURL: `${simulatorOrigin()}/s/${scenario}-primary/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
      backup: { type: "anthropic", baseURL: `${simulatorOrigin()}/s/${scenario}-backup/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } },
      dead: { type: "openai", baseURL: `${CLOSED_PORT_ORIGIN}/v1`, apiKey: { env: "OPENAI_API_KEY" } },
    },
    ...rest,
  }));
  return { ...ws, primary: `${ws.scenario}-primary`, backup: `${ws.scenario}-backup` };
}

export const PRIMARY = { provider: "primary", model: "gpt-4o-mini" };
export const BACKUP = { provider: "backup", model: "claude-haiku-4-5" };

export const chat = (ws: TestWorkspace, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  callGateway(ws.key, "/v1/chat/completions", { model: "r", messages: [{ role: "user", content: "Hi" }], ...body }, headers);

export const countRequests = async (scenario: string) => (await upstreamRequests(scenario)).length;

/** Reads a response body to its end or its failure: the text received, and whether the stream failed. */
export async function readUntilEnd(response: Response): Promise<{ text: string; failed: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, failed: false };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, failed: true };
  }
}
