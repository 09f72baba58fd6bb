import * as z from "zod";
import { CacheOptionsSchema, CoalesceOptionsSchema } from "../cache/options";
import { ModelNameSchema } from "../schema/model-name";

/**
 * The routing part of the config document: routes (strategies over targets), retry and timeout policies, and
 * circuit-breaker thresholds. `src/config/schema.ts` re-exports these and validates references between routes.
 */

export const TargetSchema = z.strictObject({
  provider: z.string().min(1).describe("A key of `providers`."),
  model: ModelNameSchema.describe("The provider's own model name."),
});
/** A concrete upstream: one provider's model. */
export type Target = z.infer<typeof TargetSchema>;

/** Upstream statuses a retry may be asked for; anything else is never retried on the same target. */
export const RETRYABLE_STATUSES = [408, 409, 429, 500, 502, 503, 504, 529] as const;
export const RetryOnSchema = z
  .union([z.literal(RETRYABLE_STATUSES), z.enum(["timeout", "network"])])
  .describe('An upstream status, "timeout" (a timeout of this gateway fired) or "network" (unreachable, connection cut).');
export type RetryOn = z.infer<typeof RetryOnSchema>;

export const BackoffSchema = z
  .strictObject({
    initialMs: z.number().int().nonnegative().default(250).describe("Delay before the first retry."),
    maxMs: z.number().int().nonnegative().default(10_000).describe("Longest single wait, backoff or Retry-After; a longer Retry-After moves on to the next target."),
    multiplier: z.number().min(1).default(2).describe("Each retry waits this many times longer than the one before."),
    jitter: z.enum(["full", "equal", "none"]).default("full").describe("full: a random delay up to the backoff; equal: half fixed, half random; none: exact."),
  })
  .describe("Exponential backoff between retries on the same target.");

export const RetrySchema = z
  .strictObject({
    attempts: z.number().int().min(1).max(10).default(1).describe("Upstream attempts per target, the first included (1 = no retry)."),
    on: z.array(RetryOnSchema).default([...RETRYABLE_STATUSES, "timeout", "network"]).describe("Failures retried on the same target; other failures may still fall back."),
    backoff: BackoffSchema.prefault({}),
  })
  .describe("Retries on the same target. The innermost setting (target, then route, then outer route) wins as a whole.");
export type RetryPolicy = z.infer<typeof RetrySchema>;

export const TimeoutSchema = z
  .strictObject({
    connectMs: z.number().int().positive().optional().describe("Per attempt: until the upstream's response headers arrive."),
    firstByteMs: z.number().int().positive().optional().describe("Per attempt: until the first stream event (streams) or the response (non-streamed)."),
    totalMs: z.number().int().positive().optional().describe("The request's whole budget until it is committed, across attempts and waits (default 600000)."),
  })
  .describe("Timeouts; each field is inherited separately, the innermost setting winning.");
export type TimeoutPolicy = z.infer<typeof TimeoutSchema>;

const weight = z.number().positive().describe("Relative share of traffic (loadbalance only; default 1).");

export const ProviderTargetSchema = TargetSchema.extend({
  weight: weight.optional(),
  retry: RetrySchema.optional(),
  timeout: TimeoutSchema.optional(),
}).describe("An upstream: one provider's model, optionally with its own retry and timeout.");
export type ProviderTarget = z.infer<typeof ProviderTargetSchema>;

export const RouteRefSchema = z
  .strictObject({
    route: z.string().min(1).describe("The name of another route, planned with its own strategy."),
    weight: weight.optional(),
    retry: RetrySchema.optional(),
    timeout: TimeoutSchema.optional(),
  })
  .describe("A nested route.");
export type RouteRef = z.infer<typeof RouteRefSchema>;

export const RouteTargetSchema = z.union([ProviderTargetSchema, RouteRefSchema]);
export type RouteTarget = z.infer<typeof RouteTargetSchema>;

export const isRouteRef = (entry: RouteTarget): entry is RouteRef => "route" in entry;

/** What a condition may look at: the model asked for, a request header, a metadata value, the estimated prompt size. */
export const ConditionFieldSchema = z
  .string()
  .regex(/^(model|promptTokens|header\.[A-Za-z0-9-]+|metadata\.[A-Za-z0-9_.-]+)$/, 'use "model", "promptTokens", "header.<name>" or "metadata.<key>"')
  .describe('"model", "promptTokens" (estimated), "header.<name>" or "metadata.<key>".');

const validRegex = (source: string) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
};

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const ConditionSchema = z
  .strictObject({
    field: ConditionFieldSchema,
    equals: scalar.optional(),
    notEquals: scalar.optional(),
    in: z.array(z.union([z.string(), z.number()])).optional().describe("Matches when the value is one of these."),
    matches: z.string().refine(validRegex, "not a valid regular expression").optional().describe("A regular expression the value must match."),
    exists: z.boolean().optional().describe("true: the field is present; false: it is absent."),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((c) => ["equals", "notEquals", "in", "matches", "exists", "gt", "gte", "lt", "lte"].some((op) => op in c), "a condition needs at least one operator")
  .describe("A test on one request field; every operator given must hold.");
export type Condition = z.infer<typeof ConditionSchema>;

export const RuleSchema = z.strictObject({
  when: z.union([ConditionSchema, z.array(ConditionSchema).min(1)]).describe("One condition, or a list that must all hold."),
  then: RouteTargetSchema.describe("The target or nested route used when the rule matches."),
});
export type Rule = z.infer<typeof RuleSchema>;

export const BATCH_MODES = ["native", "gateway"] as const;
export type BatchMode = (typeof BATCH_MODES)[number];
export const BatchSettingSchema = z
  .strictObject({
    mode: z
      .enum(BATCH_MODES)
      .default("native")
      .describe("native: relayed to the provider's own batch API (one provider target); gateway: the gateway runs the lines itself through the route (docs/batches.md)."),
  })
  .describe("How /v1/batches runs batches whose lines name this route.");
export type BatchSetting = z.infer<typeof BatchSettingSchema>;

const policies = {
  retry: RetrySchema.optional(),
  timeout: TimeoutSchema.optional(),
  cache: CacheOptionsSchema.optional().describe("The exact-match response cache for this route (docs/caching.md)."),
  coalesce: CoalesceOptionsSchema.optional().describe("Share one upstream call among identical in-flight requests."),
  batch: BatchSettingSchema.optional(),
};

export const RouteSchema = z
  .discriminatedUnion("strategy", [
    z.strictObject({ strategy: z.literal("single"), target: RouteTargetSchema, ...policies }).describe("One target."),
    z.strictObject({ strategy: z.literal("fallback"), targets: z.array(RouteTargetSchema).min(1), ...policies }).describe("Targets tried in order."),
    z
      .strictObject({ strategy: z.literal("loadbalance"), targets: z.array(RouteTargetSchema).min(1), ...policies })
      .describe("A weighted random choice; the others follow as fallbacks, also in weighted random order."),
    z
      .strictObject({ strategy: z.literal("conditional"), rules: z.array(RuleSchema).min(1), default: RouteTargetSchema.describe("Used when no rule matches."), ...policies })
      .describe("The first rule whose conditions hold chooses the target or nested route."),
    z
      .strictObject({ strategy: z.literal("cost"), targets: z.array(ProviderTargetSchema).min(1), ...policies })
      .describe("The cheapest healthy target by the pricing table first (estimated prompt tokens and max_tokens); unpriced targets last."),
    z
      .strictObject({ strategy: z.literal("latency"), targets: z.array(ProviderTargetSchema).min(1), ...policies })
      .describe("The healthy target with the lowest recent latency measured by the gateway first; unmeasured targets are tried early."),
  ])
  .describe("How a route picks its targets.");
export type Route = z.infer<typeof RouteSchema>;
export type Strategy = Route["strategy"];

export const CircuitBreakerSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("false: no circuit ever opens (latency is still measured)."),
    failureThreshold: z.number().int().min(1).default(5).describe("Consecutive failures that open a target's circuit."),
    windowMs: z.number().int().positive().default(60_000).describe("The window the failure rate is computed over."),
    minRequests: z.number().int().min(1).default(20).describe("Outcomes needed in the window before the failure rate can open the circuit."),
    failureRate: z.number().gt(0).max(1).default(0.5).describe("Failure share in the window that opens the circuit."),
    cooldownMs: z.number().int().positive().default(30_000).describe("How long an open circuit stays open before a trial request (half-open)."),
  })
  .describe("Per-target circuit breakers: open targets are skipped while any target of the route is healthy.");
export type CircuitBreakerSettings = z.infer<typeof CircuitBreakerSchema>;

/** Every target entry of a route, with its path inside the route (for error messages). */
export function entriesOf(route: Route): { entry: RouteTarget; path: (string | number)[] }[] {
  switch (route.strategy) {
    case "single":
      return [{ entry: route.target, path: ["target"] }];
    case "fallback":
    case "loadbalance":
    case "cost":
    case "latency":
      return route.targets.map((entry, index) => ({ entry, path: ["targets", index] }));
    case "conditional":
      return [...route.rules.map((rule, index) => ({ entry: rule.then, path: ["rules", index, "then"] })), { entry: route.default, path: ["default"] }];
  }
}

/** The provider targets named directly in a route (nested routes are listed under their own name). */
export function targetsOf(route: Route): Target[] {
  return entriesOf(route).flatMap(({ entry }) => (isRouteRef(entry) ? [] : [{ provider: entry.provider, model: entry.model }]));
}

/**
 * Unknown providers, unknown nested routes and cycles between routes, each with the path of the offending entry.
 */
export function routeReferenceIssues(routes: Record<string, Route>, providers: Record<string, unknown>): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [name, route] of Object.entries(routes)) {
    for (const { entry, path } of entriesOf(route)) {
      if (isRouteRef(entry)) {
        if (!(entry.route in routes)) issues.push({ path: ["routes", name, ...path, "route"], message: `unknown route "${entry.route}"` });
      } else if (!(entry.provider in providers)) {
        issues.push({ path: ["routes", name, ...path, "provider"], message: `unknown provider "${entry.provider}"` });
      }
    }
  }
  // Depth-first search over route references; a reference back into the current chain is a cycle.
  const done = new Set<string>();
  const visit = (name: string, chain: string[]) => {
    if (done.has(name)) return;
    const route = routes[name];
    if (!route) return;
    for (const { entry, path } of entriesOf(route)) {
      if (!isRouteRef(entry)) continue;
      const chainHere = [...chain, name];
      const at = chainHere.indexOf(entry.route);
      if (at >= 0) {
        issues.push({ path: ["routes", name, ...path, "route"], message: `route cycle: ${[...chainHere.slice(at), entry.route].join(" → ")}` });
        continue;
      }
      visit(entry.route, [...chain, name]);
    }
    done.add(name);
  };
  for (const name of Object.keys(routes)) visit(name, []);
  return issues;
}
