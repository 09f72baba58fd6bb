import type { GatewayConfig, Route, Target } from "../config/schema";
import { notFound } from "../lib/errors";

/** What a request's `model` names: a configured route, or one provider's model directly. */
export type ResolvedModel = { kind: "route"; name: string; route: Route } | { kind: "direct"; target: Target };

/**
 * `model` is a route name or `provider/model` (split at the first slash, so provider models may contain
 * slashes themselves, as OpenRouter's do).
 */
export function resolveModel(config: GatewayConfig, model: string): ResolvedModel {
  const route = config.routes[model];
  if (route) return { kind: "route", name: model, route };
  const slash = model.indexOf("/");
  if (slash > 0) {
    const provider = model.slice(0, slash);
    const providerModel = model.slice(slash + 1);
    if (providerModel !== "" && provider in config.providers) return { kind: "direct", target: { provider, model: providerModel } };
  }
  throw notFound(
    `The model "${model}" does not exist: use a route name or "provider/model" with a configured provider (GET /v1/models lists them).`,
    "model_not_found",
  );
}
