import { GatewayError } from "../lib/errors";
import type { Capability, Supports } from "../schema/capabilities";
import type { Price } from "../usage/pricing";
import type { RoutingFacts } from "./conditions";
import { ruleMatches } from "./conditions";
import type { RandomSource } from "./random";
import { RetrySchema, isRouteRef, type ProviderTarget, type Route, type RouteTarget, type RetryPolicy, type Target, type TimeoutPolicy } from "./schema";

/** What planning knows about a target's health: from the circuit breakers, through the isolate cache. */
export type TargetHealth = {
  /** The circuit is open and its cool-down has not passed: skip it while anything else is healthy. */
  open: boolean;
  lastFailureAt: number | null;
  /** Recent latency measured by the gateway (EWMA), when there is one. */
  latencyMs: number | null;
};

export const HEALTHY: TargetHealth = { open: false, lastFailureAt: null, latencyMs: null };

/** Without a configured `timeout.totalMs`, a request may take this long until it is committed. */
export const DEFAULT_TOTAL_MS = 600_000;
/** Output tokens assumed by the cost strategy when the request sets no max_tokens. */
export const DEFAULT_OUTPUT_TOKENS_ESTIMATE = 1_000;
export const DEFAULT_RETRY: RetryPolicy = RetrySchema.parse({});

export type ResolvedTimeout = { connectMs?: number; firstByteMs?: number; totalMs: number };

export type PlannedAttempt = {
  target: Target;
  retry: RetryPolicy;
  timeout: ResolvedTimeout;
  /** The (innermost) route this target came from; undefined for a direct `provider/model` request. */
  route: string | undefined;
};

/** A target left out because it lacks something the request needs. */
export type UnsupportedTarget = { target: Target; missing: Capability[] };

/**
 * `attempts` in the order they are tried; `skipped` were left out because their circuit is open, `unsupported`
 * because they cannot serve the request (streaming, tools, images, embeddings, ...).
 */
export type Plan = { attempts: PlannedAttempt[]; skipped: Target[]; unsupported: UnsupportedTarget[] };

export type PlanInput = {
  routes: Record<string, Route>;
  facts: RoutingFacts & { maxTokens?: number | undefined };
  random: RandomSource;
  health: (target: Target) => TargetHealth;
  price: (target: Target) => Price | null;
  /** What the request needs of a target (src/schema/capabilities.ts: chatNeeds, EMBEDDINGS_NEEDS). */
  needs: readonly Capability[];
  /** What a target can serve: its provider's `supports`. */
  supports: (target: Target) => Supports;
};

export const targetKey = (target: Target): string => `${target.provider}/${target.model}`;

type Inherited = { retry: RetryPolicy | undefined; timeout: TimeoutPolicy };

function mergeTimeout(outer: TimeoutPolicy, inner: TimeoutPolicy | undefined): TimeoutPolicy {
  if (!inner) return outer;
  const merged: TimeoutPolicy = { ...outer };
  if (inner.connectMs !== undefined) merged.connectMs = inner.connectMs;
  if (inner.firstByteMs !== undefined) merged.firstByteMs = inner.firstByteMs;
  if (inner.totalMs !== undefined) merged.totalMs = inner.totalMs;
  return merged;
}

function resolveTimeout(timeout: TimeoutPolicy): ResolvedTimeout {
  const resolved: ResolvedTimeout = { totalMs: timeout.totalMs ?? DEFAULT_TOTAL_MS };
  if (timeout.connectMs !== undefined) resolved.connectMs = timeout.connectMs;
  if (timeout.firstByteMs !== undefined) resolved.firstByteMs = timeout.firstByteMs;
  return resolved;
}

/** Weighted random order without replacement: the first pick follows the weights, and so does each next one. */
export function weightedOrder<T extends { weight?: number | undefined }>(entries: readonly T[], random: RandomSource): T[] {
  const pool = [...entries];
  const out: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, entry) => sum + (entry.weight ?? 1), 0);
    let draw = random() * total;
    let index = pool.findIndex((entry) => (draw -= entry.weight ?? 1) < 0);
    if (index < 0) index = pool.length - 1; // float rounding at the top end
    out.push(...pool.splice(index, 1));
  }
  return out;
}

/** Estimated cost of the request on a target; unpriced targets sort last. */
export function estimatedCost(price: Price | null, promptTokens: number, maxTokens: number | undefined): number {
  if (!price) return Number.POSITIVE_INFINITY;
  return promptTokens * price.input + (maxTokens ?? DEFAULT_OUTPUT_TOKENS_ESTIMATE) * price.output;
}

/** Stable sort by a numeric key (config order breaks ties). */
const sortedBy = <T>(items: readonly T[], key: (item: T) => number): T[] =>
  items
    .map((item, index) => ({ item, index, key: key(item) }))
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map(({ item }) => item);

function orderEntries(route: Route, input: PlanInput): RouteTarget[] {
  switch (route.strategy) {
    case "single":
      return [route.target];
    case "fallback":
      return route.targets;
    case "loadbalance":
      return weightedOrder(route.targets, input.random);
    case "conditional":
      return [route.rules.find((rule) => ruleMatches(rule, input.facts))?.then ?? route.default];
    case "cost":
      return sortedBy(route.targets, (target: ProviderTarget) => estimatedCost(input.price(target), input.facts.promptTokens, input.facts.maxTokens));
    case "latency":
      // Unmeasured targets first: that is how they get measured.
      return sortedBy(route.targets, (target: ProviderTarget) => input.health(target).latencyMs ?? -1);
  }
}

function expandEntry(entry: RouteTarget, inherited: Inherited, input: PlanInput, routeName: string, stack: readonly string[]): PlannedAttempt[] {
  const here: Inherited = { retry: entry.retry ?? inherited.retry, timeout: mergeTimeout(inherited.timeout, entry.timeout) };
  if (isRouteRef(entry)) return expandRoute(entry.route, here, input, stack);
  return [{ target: { provider: entry.provider, model: entry.model }, retry: here.retry ?? DEFAULT_RETRY, timeout: resolveTimeout(here.timeout), route: routeName }];
}

function expandRoute(name: string, inherited: Inherited, input: PlanInput, stack: readonly string[]): PlannedAttempt[] {
  const route = input.routes[name];
  // Unknown routes and cycles are rejected when the config loads; this only keeps planning total.
  if (!route || stack.includes(name)) return [];
  const here: Inherited = { retry: route.retry ?? inherited.retry, timeout: mergeTimeout(inherited.timeout, route.timeout) };
  return orderEntries(route, input).flatMap((entry) => expandEntry(entry, here, input, name, [...stack, name]));
}

/** What `supports` lacks of `needs`, in the order needed. */
export const missingCapabilities = (needs: readonly Capability[], supports: Supports): Capability[] => needs.filter((capability) => !supports[capability]);

const CAPABILITY_PARAMS: Record<Capability, string> = { chat: "model", stream: "stream", tools: "tools", embeddings: "model", vision: "messages" };
const CAPABILITY_NAMES: Record<Capability, string> = { chat: "chat", stream: "streaming", tools: "tools", embeddings: "embeddings", vision: "images" };

/** The 400 for a request no planned target can serve, naming each target and what it lacks. */
function unsupportedRequest(unsupported: UnsupportedTarget[], routeName: string | undefined): GatewayError {
  const lacks = (entry: UnsupportedTarget) => entry.missing.map((capability) => CAPABILITY_NAMES[capability]).join(" or ");
  const first = unsupported[0]!;
  const message =
    unsupported.length === 1
      ? `${routeName === undefined ? "The target" : `Route "${routeName}": its target`} "${targetKey(first.target)}" does not support ${lacks(first)}.`
      : `No target of route "${routeName}" can serve this request: ${unsupported.map((entry) => `"${targetKey(entry.target)}" does not support ${lacks(entry)}`).join("; ")}.`;
  const capability = first.missing[0]!;
  return new GatewayError({ status: 400, type: "invalid_request_error", code: capability === "vision" ? "unsupported_content" : "unsupported_operation", param: CAPABILITY_PARAMS[capability], message });
}

/**
 * The attempts, each target once: targets that cannot serve the request are left out (a fallback or another
 * loadbalance target is used instead), and when none can, the request is refused with a 400 naming them. Of the
 * capable ones, healthy ones are kept in order; when every capable target's circuit is open, the least recently
 * failed one is tried anyway rather than failing the request outright.
 */
function finishPlan(candidates: PlannedAttempt[], input: PlanInput, routeName: string | undefined): Plan {
  const seen = new Set<string>();
  const unique = candidates.filter((attempt) => {
    const key = targetKey(attempt.target);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const unsupported: UnsupportedTarget[] = [];
  const capable = unique.filter((attempt) => {
    const missing = missingCapabilities(input.needs, input.supports(attempt.target));
    if (missing.length > 0) unsupported.push({ target: attempt.target, missing });
    return missing.length === 0;
  });
  if (capable.length === 0 && unsupported.length > 0) throw unsupportedRequest(unsupported, routeName);
  const healthy = capable.filter((attempt) => !input.health(attempt.target).open);
  if (healthy.length > 0 || capable.length === 0) {
    return { attempts: healthy, skipped: capable.filter((attempt) => input.health(attempt.target).open).map((attempt) => attempt.target), unsupported };
  }
  const leastRecentlyFailed = sortedBy(capable, (attempt) => input.health(attempt.target).lastFailureAt ?? Number.NEGATIVE_INFINITY)[0]!;
  return { attempts: [leastRecentlyFailed], skipped: capable.filter((attempt) => attempt !== leastRecentlyFailed).map((attempt) => attempt.target), unsupported };
}

/** Plans a route: its strategy (and nested routes') ordered into attempts, unsupported targets and open circuits skipped. */
export function planRoute(name: string, input: PlanInput): Plan {
  return finishPlan(expandRoute(name, { retry: undefined, timeout: {} }, input, []), input, name);
}

/** Plans a direct `provider/model` request: one target with the default retry and timeout. */
export function planDirect(target: Target, input: PlanInput): Plan {
  return finishPlan([{ target, retry: DEFAULT_RETRY, timeout: resolveTimeout({}), route: undefined }], input, undefined);
}
