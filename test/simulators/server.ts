import { Hono } from "hono";
import { anthropicSimulator } from "./anthropic";
import { geminiSimulator } from "./gemini";
import { azureSimulator } from "./azure";
import { azureManagementSimulator } from "./azure-arm";
import { bedrockSimulator } from "./bedrock";
import { compatibleSimulator } from "./compatible";
import { openAISimulator, type SimulatorContext } from "./openai";
import { s3Simulator } from "./s3";
import { ScenarioBook, ScenarioSchema, sleep } from "./scenarios";
import { vertexSimulator } from "./vertex";

/**
 * All provider simulators behind one origin:
 *   <origin>/<provider>/...                 normal behaviour
 *   <origin>/s/<scenario>/<provider>/...    with the faults scripted for <scenario>
 *   POST <origin>/_control/scenarios/<id>   script faults ({ faults: [...], always })
 *   GET  <origin>/_control/scenarios/<id>/requests   what the simulators received
 * Provider keys are accepted when they start with `sk-sim` or equal SIMULATOR_API_KEY, when that is set.
 */
const PROVIDERS: Record<string, Hono<{ Bindings: SimulatorContext }>> = {
  openai: openAISimulator(),
  anthropic: anthropicSimulator(),
  gemini: geminiSimulator(),
  vertex: vertexSimulator(),
  bedrock: bedrockSimulator(),
  azure: azureSimulator(),
  "azure-arm": azureManagementSimulator(),
  compat: compatibleSimulator(),
  s3: s3Simulator(),
};

export function createSimulatorApp(options: { extraKey?: string } = {}) {
  const book = new ScenarioBook();
  const validKey = (key: string) => key.startsWith("sk-sim") || (options.extraKey !== undefined && key === options.extraKey);
  const app = new Hono();

  app.post("/_control/scenarios/:id", async (c) => {
    book.script(c.req.param("id"), ScenarioSchema.parse(await c.req.json()));
    return c.json({ ok: true });
  });
  app.get("/_control/scenarios/:id/requests", (c) => c.json({ requests: book.requests(c.req.param("id")) }));
  app.delete("/_control/scenarios/:id", (c) => {
    book.reset(c.req.param("id"));
    return c.json({ ok: true });
  });

  const serve = async (request: Request, scenario: string | undefined, provider: string, rest: string): Promise<Response> => {
    const simulator = PROVIDERS[provider];
    if (!simulator) return Response.json({ error: { message: `no simulator for ${provider}` } }, { status: 404 });
    const bodyText = request.method === "GET" ? "" : await request.text();
    let body: unknown = bodyText;
    try {
      body = bodyText ? JSON.parse(bodyText) : undefined;
    } catch {
      // recorded as text
    }
    const url = new URL(request.url);
    const recorded = { method: request.method, path: `/${rest}${url.search}`, headers: Object.fromEntries(request.headers), body, at: Date.now(), aborted: false };
    book.record(scenario, recorded);
    request.signal.addEventListener("abort", () => (recorded.aborted = true), { once: true });
    const fault = book.next(scenario);
    if (fault?.delayMs) await sleep(fault.delayMs);
    const inner = new Request(new URL(`/${rest}${url.search}`, url), { method: request.method, headers: request.headers, ...(bodyText ? { body: bodyText } : {}) });
    return simulator.fetch(inner, { fault, validKey, originalUrl: request.url });
  };

  app.all("/s/:scenario/:provider/*", (c) => {
    const { scenario, provider } = c.req.param();
    const rest = c.req.path.split("/").slice(4).join("/");
    return serve(c.req.raw, scenario, provider, rest);
  });
  app.all("/:provider/*", (c) => {
    const rest = c.req.path.split("/").slice(2).join("/");
    return serve(c.req.raw, undefined, c.req.param("provider"), rest);
  });
  return app;
}
