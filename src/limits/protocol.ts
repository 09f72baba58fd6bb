import * as z from "zod";

/**
 * The lease protocol between a limiter (the KeyLimiter Durable Object, durable-objects/key-limiter.ts) and its
 * holders (an isolate's lease book today, a self-hosted data-plane node later). One exchange is one plain
 * request and one plain response, both zod schemas, so the same exchange can travel as a DO RPC or as an HTTP
 * body. docs/storage.md and docs/architecture.md describe the protocol in prose.
 */

/** The rate windows are sliding: a request counts against the limit for this long after it was admitted. */
export const RATE_WINDOW_MS = 60_000;
/** How long a lease may be used after it was granted (the holder counts it from when it asked). */
export const LEASE_TTL_MS = 1_000;

export const BudgetPeriodSchema = z.enum(["day", "month", "total"]);
export type BudgetPeriod = z.infer<typeof BudgetPeriodSchema>;

const ScopeNameSchema = z.string().regex(/^(?:workspace|key:[\w.-]{1,128})$/, "a scope is `workspace` or `key:<keyId>`");

/** The limits of one scope (a key, or the whole workspace) that a request must fit in; limits travel with every exchange. */
export const ScopeLimitsSchema = z.object({
  scope: ScopeNameSchema,
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  budget: z.object({ usd: z.number().positive(), period: BudgetPeriodSchema }).optional(),
});
export type ScopeLimits = z.infer<typeof ScopeLimitsSchema>;

const Count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const Usd = z.number().nonnegative().max(1e15);
const LeaseId = z.string().min(1).max(64);

/**
 * What a holder asks for: a lease covering `first` (the request waiting on this exchange; without it, a prefetch
 * that may come back empty), plus room for `want.requests` more requests of the holder's recent average size.
 */
export const LeaseAskSchema = z.object({
  scopes: z.array(ScopeLimitsSchema).min(1).max(2),
  first: z.object({ tokens: Count, usd: Usd }).optional(),
  want: z.object({ requests: Count.max(1_000_000), tokensPerRequest: Count, usdPerRequest: Usd }),
  /** `background` (a gateway-run batch's line): admitted only into spare capacity, never with a lease for more. */
  priority: z.enum(["interactive", "background"]).optional(),
});
export type LeaseAsk = z.infer<typeof LeaseAskSchema>;

/** A lease the holder stopped using (expired, superseded or returned): what it admitted under it. */
export const LeaseCloseSchema = z.object({ lease: LeaseId, requests: Count, tokens: Count, usd: Usd });
export type LeaseClose = z.infer<typeof LeaseCloseSchema>;

/**
 * Requests admitted under a lease that have finished, summed: their real tokens minus their estimates, the
 * maximum cost they reserved (now released) and what they actually cost (added to the budgets' spend).
 */
export const LeaseSettlementSchema = z.object({
  lease: LeaseId,
  /** The holder numbers its settlement batches per lease from 1; the limiter applies each number once, so a batch resent after a failed exchange never counts twice. */
  seq: z.number().int().positive(),
  tokensDelta: z.number().int().safe(),
  usdReleased: Usd,
  usdSpent: Usd,
});
export type LeaseSettlement = z.infer<typeof LeaseSettlementSchema>;

export const ExchangeRequestSchema = z.object({
  /** Who holds the leases: an isolate (`isolate:<uuid>`) or a node (`node:<id>`). */
  holder: z.string().min(1).max(128),
  ask: LeaseAskSchema.optional(),
  closed: z.array(LeaseCloseSchema).max(1_000).default([]),
  settled: z.array(LeaseSettlementSchema).max(1_000).default([]),
  /** Milliseconds since the epoch. Tests only (time injected to cross windows and periods); an HTTP transport must not forward it. */
  now: z.number().int().nonnegative().optional(),
});
export type ExchangeRequest = z.input<typeof ExchangeRequestSchema>;

/** A lease: what the holder may admit on its own until `ttlMs` after it asked. null: that dimension is not limited. */
export const LeaseSchema = z.object({
  id: LeaseId,
  ttlMs: z.number().int().positive(),
  requests: Count.nullable(),
  tokens: Count.nullable(),
  usd: Usd.nullable(),
});
export type Lease = z.infer<typeof LeaseSchema>;

export const WindowStateSchema = z.object({ limit: Count, remaining: Count, resetMs: z.number().nonnegative() });
export type WindowState = z.infer<typeof WindowStateSchema>;

export const BudgetStateSchema = z.object({
  usd: z.number(),
  period: BudgetPeriodSchema,
  periodKey: z.string(),
  spentUsd: z.number(),
  reservedUsd: z.number(),
  resetMs: z.number().nullable(),
});
export type BudgetState = z.infer<typeof BudgetStateSchema>;

/** One scope as the limiter sees it after the exchange (what the x-ratelimit-* headers report). */
export const ScopeStateSchema = z.object({
  scope: z.string(),
  requests: WindowStateSchema.optional(),
  tokens: WindowStateSchema.optional(),
  budget: BudgetStateSchema.optional(),
});
export type ScopeState = z.infer<typeof ScopeStateSchema>;

export const RefusalReasonSchema = z.enum(["requests", "tokens", "budget"]);

export const ExchangeResponseSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), lease: LeaseSchema.nullable(), scopes: z.array(ScopeStateSchema) }),
  /** The first request does not fit: nothing was granted. */
  z.object({ ok: z.literal(false), scopes: z.array(ScopeStateSchema), scope: z.string(), reason: RefusalReasonSchema, retryAfterMs: z.number().nonnegative().nullable() }),
]);
export type ExchangeResponse = z.infer<typeof ExchangeResponseSchema>;
export type Refusal = Extract<ExchangeResponse, { ok: false }>;

/** `d:2026-11-27`, `m:2026-11` or `total`: the UTC period a cost at `now` belongs to. */
export function periodKeyOf(period: BudgetPeriod, now: number): string {
  const iso = new Date(now).toISOString();
  if (period === "day") return `d:${iso.slice(0, 10)}`;
  if (period === "month") return `m:${iso.slice(0, 7)}`;
  return "total";
}

/** Milliseconds from `now` to the start of the next UTC period; null for `total`, which never resets. */
export function periodResetMs(period: BudgetPeriod, now: number): number | null {
  const d = new Date(now);
  if (period === "day") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - now;
  if (period === "month") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - now;
  return null;
}
