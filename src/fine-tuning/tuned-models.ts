import type { GatewayConfig } from "../config/schema";
import { notFound } from "../lib/errors";
import { TtlCache } from "../lib/ttl-cache";
import { isTunedModelId } from "../providers/fine-tuning-registry";
import type { Plan } from "../routing/plan";
import { fineTunedPriceOf, priceKeyOf, priceOfTarget, type Price } from "../usage/pricing";
import { findTunedModel, type TunedModel } from "./store";

/**
 * Tuned models belong to the workspace whose job made them. A request whose plan names a tuned model's id (the
 * provider's own pattern: `ft:…`, `….ft-…`, a Vertex endpoint, a Bedrock custom model ARN) is checked against the
 * registry (D1 `fine_tuned_models`): another workspace's model is left out of the plan — a plan left empty is a
 * 404, as for a model that does not exist. A model the gateway did not make is the workspace's own provider
 * account's business and passes. The owner's calls are priced at the provider's fine-tuned price of the model's
 * base, unless the workspace prices the model itself.
 */

/** A registered model never changes owner; an unknown one may become known when a job succeeds. */
const KNOWN_TTL_MS = 5 * 60_000;
const UNKNOWN_TTL_MS = 2_000;
const registry = new TtlCache<TunedModel | null>({ ttlMs: KNOWN_TTL_MS, maxEntries: 1_000 });

async function lookUp(db: D1Database, providerType: string, model: string): Promise<TunedModel | null> {
  const key = `${providerType}\n${model}`;
  const cached = registry.get(key);
  if (cached !== undefined) return cached;
  const found = await findTunedModel(db, providerType, model);
  registry.set(key, found, found ? KNOWN_TTL_MS : UNKNOWN_TTL_MS);
  return found;
}

export type TunedPlan<P extends Plan = Plan> = { plan: P; config: GatewayConfig };

export async function guardTunedModels<P extends Plan>(db: D1Database, workspaceId: string, config: GatewayConfig, plan: P, requested: string): Promise<TunedPlan<P>> {
  const tuned = plan.attempts.filter((a) => {
    const provider = config.providers[a.target.provider];
    return provider !== undefined && isTunedModelId(provider.type, a.target.model);
  });
  if (tuned.length === 0) return { plan, config };
  const refused = new Set<string>();
  const prices: Record<string, Price> = {};
  for (const attempt of tuned) {
    const { provider, model } = attempt.target;
    const type = config.providers[provider]!.type;
    const owner = await lookUp(db, type, model);
    if (owner === null) continue;
    if (owner.workspaceId !== workspaceId) {
      refused.add(`${provider}/${model}`);
      continue;
    }
    const base = fineTunedPriceOf(priceKeyOf(config.providers[provider]!), owner.baseModel);
    if (base && priceOfTarget(config, provider, model) === null) prices[`${provider}/${model}`] = base;
  }
  const attempts = plan.attempts.filter((a) => !refused.has(`${a.target.provider}/${a.target.model}`));
  if (attempts.length === 0) throw notFound(`The model "${requested}" does not exist in this workspace.`, "model_not_found");
  const priced = Object.keys(prices).length > 0 ? { ...config, pricing: { ...prices, ...config.pricing } } : config;
  return { plan: { ...plan, attempts }, config: priced };
}
