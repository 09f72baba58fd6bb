import * as z from "zod";
import type { ProviderConfig } from "../../config/schema";
import { AccessTokenCache, refreshAt, type CachedToken } from "../../lib/access-token-cache";
import { GatewayError } from "../../lib/errors";
import type { ProviderCall } from "../batch";
import type { ServeStep, TuningPlan } from "../fine-tuning";
import { readJson } from "../http";
import type { UpstreamTarget } from "../types";

/**
 * Deploying a tuned model on Azure OpenAI: deployments are Azure Resource Manager resources, created with a
 * Microsoft Entra ID token (client-credentials grant of a service principal), not with the resource's api-key.
 * The deployment is named after the tuned model, so `azure/<fine_tuned_model>` reaches it through the same
 * deployments URL as any other model.
 */

type AzureConfig = Extract<ProviderConfig, { type: "azure" }>;

/** Resource Manager's API version for Microsoft.CognitiveServices deployments. */
const ARM_API_VERSION = "2024-10-01";
const ARM_SCOPE = "https://management.azure.com/.default";
/** Azure's limit on deployment names. */
const MAX_DEPLOYMENT_NAME = 64;

const TokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive().optional() });
const DeploymentSchema = z.object({ name: z.string().optional(), properties: z.object({ provisioningState: z.string().optional() }).loose().optional() }).loose();

const tokens = new AccessTokenCache();

/** The deployment name for a tuned model: the model id itself when it fits Azure's name rules, else a stable short form. */
export async function deploymentNameFor(tunedModel: string): Promise<string> {
  if (tunedModel.length <= MAX_DEPLOYMENT_NAME && /^[A-Za-z0-9._-]+$/.test(tunedModel)) return tunedModel;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(tunedModel)));
  const hex = [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${tunedModel.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, MAX_DEPLOYMENT_NAME - 17)}-${hex}`;
}

async function managementToken(target: UpstreamTarget<AzureConfig>, call: ProviderCall): Promise<string> {
  const settings = target.config.tunedDeployments!;
  const secret = await target.secret(target.config.clientSecret!);
  const tokenURL = `${target.config.loginURL}/${encodeURIComponent(settings.tenantId)}/oauth2/v2.0/token`;
  const exchange = async (): Promise<CachedToken> => {
    const now = Date.now();
    const response = await call(
      new Request(tokenURL, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: settings.clientId, client_secret: secret, scope: ARM_SCOPE }).toString(),
      }),
    );
    const token = await readJson(response, TokenSchema, target.providerName, "Microsoft Entra token");
    return { token: token.access_token, refreshAt: refreshAt(now, token.expires_in ?? 3600) };
  };
  return tokens.get(`${settings.tenantId}|${settings.clientId}|${tokenURL}`, exchange, Date.now());
}

const deploymentURL = (config: AzureConfig, name: string) => {
  const s = config.tunedDeployments!;
  return `${config.managementURL}/subscriptions/${encodeURIComponent(s.subscriptionId)}/resourceGroups/${encodeURIComponent(s.resourceGroup)}/providers/Microsoft.CognitiveServices/accounts/${encodeURIComponent(s.resourceName)}/deployments/${encodeURIComponent(name)}?api-version=${ARM_API_VERSION}`;
};

/**
 * One step of deploying `tunedModel`: creates the deployment the first time, then reads its provisioning state
 * until it has succeeded. Without `tunedDeployments` the model is left for the operator to deploy under its own
 * name (docs/fine-tuning.md).
 */
export async function deployTunedModel(target: UpstreamTarget<AzureConfig>, call: ProviderCall, _plan: TuningPlan, tunedModel: string, state: Record<string, string> | undefined): Promise<ServeStep> {
  const settings = target.config.tunedDeployments;
  if (!settings || !target.config.clientSecret) return { ready: true, model: tunedModel };
  const name = state?.deployment ?? (await deploymentNameFor(tunedModel));
  const headers = { authorization: `Bearer ${await managementToken(target, call)}` };
  const response = state?.deployment
    ? await call(new Request(deploymentURL(target.config, name), { headers }))
    : await call(
        new Request(deploymentURL(target.config, name), {
          method: "PUT",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ sku: { name: settings.sku, capacity: settings.capacity }, properties: { model: { format: "OpenAI", name: tunedModel, version: "1" } } }),
        }),
      );
  const deployment = await readJson(response, DeploymentSchema, target.providerName, "deployment");
  const provisioning = deployment.properties?.provisioningState ?? "Creating";
  if (provisioning === "Succeeded") return { ready: true, model: name };
  if (provisioning === "Failed" || provisioning === "Canceled") {
    throw new GatewayError({ status: 400, type: "invalid_request_error", code: "deployment_failed", provider: target.providerName, message: `${target.providerName}: deploying the tuned model as "${name}" ended ${provisioning}.` });
  }
  return { ready: false, state: { deployment: name } };
}
