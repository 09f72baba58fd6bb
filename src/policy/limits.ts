import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { GatewayConfig, Target } from "../config/schema";
import { GatewayError } from "../lib/errors";
import { LeaseBook, type Background } from "../limits/lease-book";
import { BACKGROUND_RESERVE_SHARE } from "../limits/ledger";
import type { Refusal, ScopeLimits, ScopeState, WindowState } from "../limits/protocol";
import { HttpLeaseTransport } from "../limits/http-transport";
import { OfflineAllowance, offlineFractionOf } from "../limits/offline-allowance";
import { DurableObjectLeaseTransport, type LeaseTransport } from "../limits/transport";
import { emptyUsage, type Usage } from "../schema/internal";
import type { AfterResponse } from "../settle/record";
import type { RequestEstimate } from "../usage/estimate";
import { costOf, priceOfTarget, type Price } from "../usage/pricing";
import type { AppEnv } from "../types";
import { BACKGROUND_DEFERRAL_HEADER } from "./batch-line-caller";
import type { KeyRecord } from "./keys";
import type { Budget, RateLimit } from "./limit-schemas";

/**
 * The output tokens a budget reserves for a chat request that sets no max_tokens. Budgets cannot know how long
 * an unbounded answer will be; this covers most answers, and a request that wants more (or needs to fit a nearly
 * spent budget) says so with max_tokens.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;

export const WORKSPACE_SCOPE = "workspace";
export const keyScope = (keyId: string) => `key:${keyId}`;

const hasAny = (limits: { rateLimit?: RateLimit | undefined; budget?: Budget | undefined } | undefined) => limits?.rateLimit !== undefined || limits?.budget !== undefined;

/**
 * Where a key's counters live: its own limiter (`key:<keyId>`), or, when the workspace has limits, the
 * workspace's (`ws:<workspaceId>`), so one round trip checks both.
 */
export const workspaceLimiterName = (workspaceId: string) => `ws:${workspaceId}`;
export const limiterNameFor = (workspaceId: string, config: GatewayConfig | null, keyId: string) => (hasAny(config?.limits) ? workspaceLimiterName(workspaceId) : `key:${keyId}`);

const scopeOf = (scope: string, limits: { rateLimit?: RateLimit | undefined; budget?: Budget | undefined }): ScopeLimits => ({
  scope,
  ...(limits.rateLimit?.rpm !== undefined ? { rpm: limits.rateLimit.rpm } : {}),
  ...(limits.rateLimit?.tpm !== undefined ? { tpm: limits.rateLimit.tpm } : {}),
  ...(limits.budget ? { budget: limits.budget } : {}),
});

type AdmissionPlan = { limiter: string; scopes: ScopeLimits[] };
/** Plans per key record: records and configs come from isolate caches, so the same objects serve many requests. */
const plans = new WeakMap<KeyRecord, { workspaceId: string; config: GatewayConfig; plan: AdmissionPlan | null }>();

function admissionPlanOf(workspaceId: string, config: GatewayConfig, key: KeyRecord): AdmissionPlan | null {
  const known = plans.get(key);
  if (known && known.config === config && known.workspaceId === workspaceId) return known.plan;
  const plan = admissionPlan(workspaceId, config, key);
  plans.set(key, { workspaceId, config, plan });
  return plan;
}

/** The limiter and scopes a request is admitted against; null when neither the key nor the workspace has limits. */
export function admissionPlan(workspaceId: string, config: GatewayConfig, key: KeyRecord): { limiter: string; scopes: ScopeLimits[] } | null {
  const scopes: ScopeLimits[] = [];
  if (hasAny(key)) scopes.push(scopeOf(keyScope(key.id), key));
  if (config.limits && hasAny(config.limits)) scopes.push(scopeOf(WORKSPACE_SCOPE, config.limits));
  return scopes.length === 0 ? null : { limiter: limiterNameFor(workspaceId, config, key.id), scopes };
}

function priceFor(config: GatewayConfig, target: Target): Price | null {
  return priceOfTarget(config, target.provider, target.model);
}

/** The most the request can cost on any target of its plan (a fallback may answer); throws when one is unpriced. */
function maxCostUsd(config: GatewayConfig, plan: readonly Target[], demand: RequestEstimate): number {
  const usage: Usage = { ...emptyUsage(), promptTokens: demand.promptTokens, completionTokens: demand.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS };
  let max = 0;
  for (const target of plan) {
    const cost = costOf(usage, priceFor(config, target));
    if (cost === null) {
      throw new GatewayError({
        status: 400,
        type: "invalid_request_error",
        code: "unpriced_model",
        param: "model",
        message: `A budget applies to this request, but ${target.provider}/${target.model} has no price, so its cost cannot be bounded; use a priced model.`,
      });
    }
    max = Math.max(max, cost);
  }
  return max;
}

/** OpenAI's reset format: `250ms`, `1.5s`, `6m0s`. */
export function openAIDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms) / 1_000;
  if (seconds < 60) return `${+seconds.toFixed(3)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${+(seconds - minutes * 60).toFixed(3)}s`;
}

/** Of several scopes' windows, the one closest to refusing. */
const tightest = (windows: (WindowState | undefined)[]): WindowState | undefined =>
  windows.reduce<WindowState | undefined>((best, w) => (w && (!best || w.remaining < best.remaining) ? w : best), undefined);

/** The x-ratelimit-* headers (OpenAI's names) of the tightest scope, and the smallest remaining budget. */
export function limitHeaders(scopes: ScopeState[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ["requests", "tokens"] as const) {
    const window = tightest(scopes.map((s) => s[name]));
    if (!window) continue;
    headers[`x-ratelimit-limit-${name}`] = String(window.limit);
    headers[`x-ratelimit-remaining-${name}`] = String(window.remaining);
    headers[`x-ratelimit-reset-${name}`] = openAIDuration(window.resetMs);
  }
  const budgets = scopes.flatMap((s) => (s.budget ? [Math.max(0, s.budget.usd - s.budget.spentUsd - s.budget.reservedUsd)] : []));
  if (budgets.length > 0) headers["x-switchyard-budget-remaining-usd"] = Math.min(...budgets).toFixed(6);
  return headers;
}

const BUDGET_PERIOD_ADJECTIVE: Record<Budget["period"], string> = { day: "daily", month: "monthly", total: "total" };

function refusal(result: Refusal, headers: Record<string, string>): GatewayError {
  if (result.retryAfterMs !== null) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(result.retryAfterMs / 1_000)));
    headers["retry-after-ms"] = String(Math.ceil(result.retryAfterMs));
  }
  const state = result.scopes.find((s) => s.scope === result.scope)!;
  const whose = result.scope === WORKSPACE_SCOPE ? "this workspace" : "this key";
  if (result.reason === "budget") {
    const budget = state.budget!;
    return new GatewayError({
      status: 429,
      type: "budget_exceeded",
      code: "budget_exceeded",
      headers,
      message: `The ${BUDGET_PERIOD_ADJECTIVE[budget.period]} budget of ${whose} ($${budget.usd}) would be exceeded: $${budget.spentUsd.toFixed(6)} spent and $${budget.reservedUsd.toFixed(6)} reserved by requests in flight. ${budget.resetMs === null ? "The budget does not reset." : `It resets at the start of the next UTC ${budget.period}.`} A lower max_tokens reserves less.`,
    });
  }
  const window = (result.reason === "requests" ? state.requests : state.tokens)!;
  return new GatewayError({
    status: 429,
    type: "rate_limit_error",
    code: result.reason === "requests" ? "rate_limit_exceeded" : "tokens_rate_limit_exceeded",
    headers,
    message: `Rate limit reached for ${whose}: ${window.limit} ${result.reason} per minute. Retry after ${openAIDuration(result.retryAfterMs ?? 0)}.`,
  });
}

/**
 * A batch line that found no spare capacity: the refusal the key's limit gave, marked for the batch's consumer
 * (BACKGROUND_DEFERRAL_HEADER), which runs the line later — or, when it can never fit, records this as its answer.
 */
function deferral(result: Refusal, headers: Record<string, string>): GatewayError {
  const refused = refusal(result, headers);
  return new GatewayError({
    status: 429,
    type: refused.type,
    code: refused.code ?? null,
    headers: { ...refused.headers, [BACKGROUND_DEFERRAL_HEADER]: result.retryAfterMs === null ? "never" : String(Math.ceil(result.retryAfterMs)) },
    message:
      result.retryAfterMs === null
        ? `This batch line cannot run: batch lines use only the spare capacity of a key's limits (all but ${BACKGROUND_RESERVE_SHARE * 100}%, kept for interactive requests), and this line needs more than that. ${refused.message}`
        : `No spare capacity for batch lines right now. ${refused.message}`,
  });
}

/**
 * This isolate's lease book: the holder of every lease its requests admit from. Created on first use (an
 * isolate may not make random ids at load), with the Durable Object transport.
 */
let isolateBook: LeaseBook | undefined;
function leaseBook(env: Env): LeaseBook {
  isolateBook ??= new LeaseBook(leaseTransportFor(env), { holder: `isolate:${crypto.randomUUID()}` });
  return isolateBook;
}

/**
 * The KeyLimiters this gateway leases from: its own Durable Objects, or, on a hybrid data plane, its control
 * plane's over HTTP (docs/hybrid.md), so every node counts against the same limits.
 */
function leaseTransportFor(env: Env): LeaseTransport {
  if (env.SWITCHYARD_ROLE !== "data") return new DurableObjectLeaseTransport(env.KEY_LIMITER);
  const token: unknown = Reflect.get(env, "SWITCHYARD_NODE_TOKEN");
  return new HttpLeaseTransport(env.SWITCHYARD_CONTROL_PLANE, typeof token === "string" ? token : "");
}

/** A data plane's own admissions while its control plane is unreachable (src/limits/offline-allowance.ts). */
const offline = new OfflineAllowance();

function limiterUnavailable(error: unknown): GatewayError {
  console.error(JSON.stringify({ level: "error", message: "limiter exchange failed", error: error instanceof Error ? error.message : String(error) }));
  return new GatewayError({ status: 503, type: "api_error", code: "limiter_unavailable", message: "The rate limiter could not be reached; retry the request." });
}

/**
 * Admission for one request (its route allow-list was checked before planning, `requireModelAllowed`): only when
 * the key or its workspace has limits, its limiter's rpm, tpm and budget, from a lease this isolate holds — no await — or, when none covers the
 * request, through one exchange with the limiter (src/limits/lease-book.ts). Returns the after-response task that
 * hands the request's settled tokens and cost — the same numbers its usage event carries — back to the limiter;
 * undefined when nothing limits the request.
 */
export async function admitRequest(c: Context<AppEnv>, targets: readonly Target[], demand: RequestEstimate): Promise<AfterResponse | undefined> {
  const key = c.get("key");
  const config = c.get("config");
  const plan = admissionPlanOf(c.get("workspaceId"), config, key);
  if (!plan) return undefined;
  const book = leaseBook(c.env);
  const ctx = c.executionCtx;
  const background: Background = (promise) => ctx.waitUntil(promise);
  const needs = {
    tokens: demand.promptTokens + (demand.maxOutputTokens ?? 0),
    usd: plan.scopes.some((s) => s.budget) ? maxCostUsd(config, targets, demand) : 0,
  };
  if (c.get("batchLine") !== undefined) {
    // A line of a gateway-run batch: background priority, only into the limits' spare capacity (never from a lease).
    const exchanged = await book.admitBackground(plan.limiter, plan.scopes, needs, background).catch((error: unknown) => {
      throw limiterUnavailable(error);
    });
    const headers = limitHeaders(exchanged.scopes);
    if (!exchanged.ok) throw deferral(exchanged, headers);
    c.set("limitHeaders", headers);
    const { ticket } = exchanged;
    return (settled) => book.settle(ticket, { tokens: settled.billedTokens, usd: settled.costUsd ?? 0 }, background);
  }
  let result = book.admitHeld(plan.limiter, plan.scopes, needs, background);
  if (!result) {
    const exchanged = await book.admitByExchange(plan.limiter, plan.scopes, needs, background).catch((error: unknown) => {
      if (c.env.SWITCHYARD_ROLE === "data" && offline.admit(plan.limiter, plan.scopes, needs, offlineFractionOf(c.env.SWITCHYARD_OFFLINE_ALLOWANCE))) return null;
      throw limiterUnavailable(error);
    });
    // Admitted from the offline allowance: nothing to settle with a limiter that cannot be reached (the usage
    // event still carries the request's cost to the control plane).
    if (exchanged === null) return undefined;
    if (c.env.SWITCHYARD_ROLE === "data") offline.reset();
    const headers = limitHeaders(exchanged.scopes);
    if (!exchanged.ok) throw refusal(exchanged, headers);
    result = exchanged;
  }
  c.set("limitHeaders", limitHeaders(result.scopes));
  const { ticket } = result;
  return (settled) => book.settle(ticket, { tokens: settled.billedTokens, usd: settled.costUsd ?? 0 }, background);
}
/** Puts the admitted request's x-ratelimit-* headers on its response (refusals carry them already). */
export const rateLimitHeaders = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const headers = c.get("limitHeaders");
    if (headers) for (const [name, value] of Object.entries(headers)) if (!c.res.headers.has(name)) c.res.headers.set(name, value);
  });
