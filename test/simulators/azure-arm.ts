import { Hono } from "hono";
import { TEST_PROVIDER_KEYS } from "../fixtures";
import { DEPLOYMENTS, azureTuning } from "./azure";
import type { SimulatorContext } from "./openai";

/**
 * Microsoft Entra ID's token endpoint (client-credentials grant) and the part of Azure Resource Manager that
 * deploys models on an Azure OpenAI resource (Microsoft.CognitiveServices/accounts/{name}/deployments/{name}).
 * A deployment starts `Creating` and reads `Succeeded` the next time it is read; only then does the resource
 * (./azure.ts) serve it. Only models the resource has (its base models, or a tuned model one of its jobs made) can
 * be deployed.
 */

const ARM_SCOPE = "https://management.azure.com/.default";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Deployment = { name: string; model: string; sku: { name: string; capacity: number }; state: "Creating" | "Succeeded" };

const armError = (status: number, code: string, message: string) => Response.json({ error: { code, message } }, { status });

export function azureManagementSimulator() {
  const tokens = new Map<string, number>();
  const deployments = new Map<string, Deployment>();
  const app = new Hono<{ Bindings: SimulatorContext }>();

  app.post("/:tenant/oauth2/v2.0/token", async (c) => {
    const form = new URLSearchParams(await c.req.text());
    if (!GUID.test(c.req.param("tenant"))) return c.json({ error: "invalid_request", error_description: "AADSTS90002: Tenant not found." }, 400);
    if (form.get("grant_type") !== "client_credentials") return c.json({ error: "unsupported_grant_type", error_description: "AADSTS70003: The grant type is not supported." }, 400);
    if (form.get("scope") !== ARM_SCOPE) return c.json({ error: "invalid_scope", error_description: "AADSTS70011: The provided value for the input parameter 'scope' is not valid." }, 400);
    if (!GUID.test(form.get("client_id") ?? "") || form.get("client_secret") !== TEST_PROVIDER_KEYS.AZURE_CLIENT_SECRET) {
      return c.json({ error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." }, 401);
    }
    const token = `eyJ0eXAiOiJKV1QiLCJzaW0iOnRydWV9.${crypto.randomUUID()}`;
    tokens.set(token, Date.now() + 3599_000);
    return c.json({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: token });
  });

  app.use("/subscriptions/*", async (c, next) => {
    const auth = c.req.header("authorization") ?? "";
    const expires = auth.startsWith("Bearer ") ? tokens.get(auth.slice(7)) : undefined;
    if (expires === undefined || expires < Date.now()) return armError(401, "InvalidAuthenticationToken", "The access token is invalid.");
    if (c.req.query("api-version") === undefined) return armError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    await next();
  });

  const path = "/subscriptions/:subscription/resourceGroups/:group/providers/Microsoft.CognitiveServices/accounts/:account/deployments/:name";
  const resource = (c: { req: { param: (name: string) => string } }, deployment: Deployment) => ({
    id: `/subscriptions/${c.req.param("subscription")}/resourceGroups/${c.req.param("group")}/providers/Microsoft.CognitiveServices/accounts/${c.req.param("account")}/deployments/${deployment.name}`,
    type: "Microsoft.CognitiveServices/accounts/deployments",
    name: deployment.name,
    sku: deployment.sku,
    properties: { model: { format: "OpenAI", name: deployment.model, version: "1" }, provisioningState: deployment.state },
  });
  app.put(path, async (c) => {
    const name = c.req.param("name");
    if (!/^[A-Za-z0-9._-]{2,64}$/.test(name)) return armError(400, "InvalidResourceName", `The deployment name '${name}' is invalid.`);
    const body = await c.req.json<{ sku?: { name?: string; capacity?: number }; properties?: { model?: { format?: string; name?: string } } }>();
    const model = body.properties?.model;
    if (model?.format !== "OpenAI" || !model.name) return armError(400, "InvalidRequestContent", "properties.model.format and name are required.");
    if (!azureTuning.tunedModels.has(model.name) && !Object.values(DEPLOYMENTS).includes(model.name)) return armError(400, "DeploymentModelNotSupported", `The model '${model.name}' does not exist on this resource.`);
    if (!body.sku?.name || !body.sku.capacity) return armError(400, "InvalidResourceProperties", "sku.name and sku.capacity are required.");
    const deployment: Deployment = { name, model: model.name, sku: { name: body.sku.name, capacity: body.sku.capacity }, state: "Creating" };
    deployments.set(name, deployment);
    return c.json(resource(c, deployment), 201);
  });
  app.get(path, (c) => {
    const deployment = deployments.get(c.req.param("name"));
    if (!deployment) return armError(404, "DeploymentNotFound", `Deployment '${c.req.param("name")}' not found.`);
    if (deployment.state === "Creating") {
      deployment.state = "Succeeded";
      DEPLOYMENTS[deployment.name] = azureTuning.tunedModels.get(deployment.model) ?? deployment.model;
    }
    return c.json(resource(c, deployment));
  });
  return app;
}
