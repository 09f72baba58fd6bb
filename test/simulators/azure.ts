import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { OpenAIBatchBook } from "./batches";
import { FineTuningBook, mountFineTuningRoutes } from "./fine-tuning";
import { chat, embeddings, mountBatchRoutes, type ChatBody, type SimulatorContext } from "./openai";

/**
 * An Azure OpenAI simulator: the deployments API (`/openai/deployments/{deployment}/...?api-version=`) and the GA
 * v1 API (`/openai/v1/...`), both authenticated with the `api-key` header, Azure's error bodies, and the
 * prompt_filter_results chunk Azure opens every stream with.
 */

/**
 * What the simulated resource has deployed: deployment name → the model behind it. Deployments of tuned models
 * join it through Azure Resource Manager (./azure-arm.ts).
 */
export const DEPLOYMENTS: Record<string, string> = { "gpt4o-prod": "gpt-4o-2024-08-06", "mini-dev": "gpt-4o-mini-2024-07-18", "embed-small": "text-embedding-3-small" };

/** The resource's files (shared by its deployments and v1 APIs) and the models its fine-tuning jobs made. */
const files = new OpenAIBatchBook(true);
export const azureTuning = new FineTuningBook(files, {
  models: ["gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14", "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-35-turbo-0125", "gpt-35-turbo-1106"],
  tunedName: (base, suffix, id) => `${base}.ft-${id.padEnd(32, "0").replace(/[^0-9a-f]/g, "a")}${suffix ? `-${suffix}` : ""}`,
  importsFiles: true,
  error: (status, message, code) => azureError(status, code ?? String(status), message),
});
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

export const azureError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code, message } }), { status, headers: { "content-type": "application/json", ...headers } });

const requireVersion = createMiddleware(async (c, next) => {
  const version = c.req.query("api-version");
  if (!version) return azureError(404, "404", "Resource not found");
  if (!API_VERSION.test(version)) return azureError(400, "BadRequest", `API version not supported: ${version}`);
  await next();
});

export function azureSimulator() {
  const app = new Hono<{ Bindings: SimulatorContext }>();
  app.use("*", async (c, next) => {
    if (!c.env.validKey(c.req.header("api-key") ?? "")) {
      return azureError(401, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.");
    }
    const fault = c.env.fault;
    if (fault?.status) return azureError(fault.status, String(fault.status), fault.message ?? `Simulated error ${fault.status}`, fault.headers);
    await next();
  });

  // Global Batch: OpenAI's Files and Batch APIs; lines name deployments in `model`.
  app.use("/openai/files", requireVersion);
  app.use("/openai/files/*", requireVersion);
  app.use("/openai/batches", requireVersion);
  app.use("/openai/batches/*", requireVersion);
  app.use("/openai/fine_tuning/*", requireVersion);
  const noFault: SimulatorContext = { fault: undefined, validKey: () => true, originalUrl: "" };
  const run = async (url: string, body: Record<string, unknown>) => {
    const model = DEPLOYMENTS[String(body.model)];
    if (!model) return { status: 404, body: { error: { code: "DeploymentNotFound", message: `The API deployment ${String(body.model)} does not exist.` } } };
    const response = url.endsWith("/embeddings") ? embeddings({ ...body, model }) : chat({ ...(body as ChatBody), model }, noFault);
    return { status: response.status, body: await response.json() };
  };
  const keyOf = (headers: Headers) => headers.get("api-key") ?? "";
  mountBatchRoutes(app, "/openai", run, keyOf, files);
  mountBatchRoutes(app, "/openai/v1", run, keyOf, files);
  const tuningError = (status: number, message: string, code?: string) => azureError(status, code ?? String(status), message);
  mountFineTuningRoutes(app, "/openai", azureTuning, keyOf, tuningError);
  mountFineTuningRoutes(app, "/openai/v1", azureTuning, keyOf, tuningError);

  app.use("/openai/deployments/:deployment/*", async (c, next) => {
    const version = c.req.query("api-version");
    if (!version) return azureError(404, "404", "Resource not found");
    if (!API_VERSION.test(version)) return azureError(400, "BadRequest", `API version not supported: ${version}`);
    if (!(c.req.param("deployment") in DEPLOYMENTS)) {
      return azureError(404, "DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.");
    }
    await next();
  });
  app.post("/openai/deployments/:deployment/chat/completions", async (c) => {
    const body = await c.req.json<ChatBody>();
    return chat({ ...body, model: DEPLOYMENTS[c.req.param("deployment")]! }, c.env, { promptFilterChunk: true });
  });
  app.post("/openai/deployments/:deployment/embeddings", async (c) => embeddings({ ...(await c.req.json()), model: DEPLOYMENTS[c.req.param("deployment")]! }));

  app.post("/openai/v1/chat/completions", async (c) => {
    const body = await c.req.json<ChatBody>();
    if (!body.model) return azureError(400, "BadRequest", "model is required");
    return chat(body, c.env, { promptFilterChunk: true });
  });
  app.post("/openai/v1/embeddings", async (c) => embeddings(await c.req.json()));
  return app;
}
