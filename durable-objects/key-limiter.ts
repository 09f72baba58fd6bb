import { DurableObject } from "cloudflare:workers";

/** The rate windows are sliding: a request counts against the limit for exactly this long after admission. */
export const RATE_WINDOW_MS = 60_000;
/**
 * A reservation a request never settled (its isolate died mid-request) is released after this long, so a crash
 * cannot lock a budget forever. Longer than any request the gateway lets run.
 */
export const RESERVATION_TTL_MS = 60 * 60_000;
const SCHEMA_VERSION = 1;

export type BudgetPeriod = "day" | "month" | "total";

export type AdmitInput = {
  requestId: string;
  /** Limits travel with every call (they live on the key record), so a PATCH applies to the next request. */
  rpm?: number;
  tpm?: number;
  budget?: { usd: number; period: BudgetPeriod };
  /** Admission-time token estimate (prompt estimate + max_tokens); settlement replaces it with the real count. */
  estimatedTokens: number;
  /** The most this request can cost; reserved until settlement. */
  maxCostUsd: number;
  /** Milliseconds since the epoch; tests inject it to cross windows and periods without sleeping. */
  now?: number;
};

export type WindowState = { limit: number; remaining: number; resetMs: number };
export type BudgetState = { usd: number; period: BudgetPeriod; periodKey: string; spentUsd: number; reservedUsd: number; resetMs: number | null };
export type LimitState = { requests?: WindowState; tokens?: WindowState; budget?: BudgetState };

export type AdmitResult =
  | ({ ok: true } & LimitState)
  | ({ ok: false; reason: "requests" | "tokens" | "budget"; retryAfterMs: number | null } & LimitState);

export type SettleInput = { requestId: string; tokens: number; costUsd: number };

export type LimiterSnapshot = {
  requestsInWindow: number;
  tokensInWindow: number;
  reservations: number;
  reservedUsd: number;
  spend: { periodKey: string; usd: number }[];
};

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

type EventRow = { at: number; tokens: number };

/**
 * Rate limits and budget of one gateway key (one instance per key, named `key:<keyId>`). Every method is
 * synchronous SQLite work with no await in between, so concurrent requests are admitted strictly one after
 * another: with `rpm: N`, exactly N of N+k simultaneous requests get in. Admission checks requests, tokens
 * and budget together and records nothing unless all three pass.
 */
export class KeyLimiter extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#ensureSchema();
  }

  #ensureSchema(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
    const row = this.#sql.exec<{ value: number }>(`SELECT value FROM kl_meta WHERE key = 'schema_version'`).toArray()[0];
    if (row && row.value >= SCHEMA_VERSION) return;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_events (request_id TEXT PRIMARY KEY, at INTEGER NOT NULL, tokens INTEGER NOT NULL)`);
    this.#sql.exec(`CREATE INDEX IF NOT EXISTS kl_events_at ON kl_events (at)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_reservations (request_id TEXT PRIMARY KEY, period_key TEXT NOT NULL, usd REAL NOT NULL, at INTEGER NOT NULL)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_spend (period_key TEXT PRIMARY KEY, usd REAL NOT NULL)`);
    this.#sql.exec(`INSERT INTO kl_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, SCHEMA_VERSION);
  }

  /** Admits a request against rpm, tpm and budget in one step; records it only when all pass. */
  admit(input: AdmitInput): AdmitResult {
    const now = input.now ?? Date.now();
    const tracksWindow = input.rpm !== undefined || input.tpm !== undefined;
    const events = tracksWindow ? this.#windowEvents(now) : [];
    const state: LimitState = {};
    let rejection: { reason: "requests" | "tokens" | "budget"; retryAfterMs: number | null } | undefined;

    if (input.rpm !== undefined) {
      const admitted = events.length < input.rpm;
      // Admitted: the window next frees a slot when its oldest request leaves (this one, if it is alone).
      // Refused: when enough of the oldest leave for one more to fit.
      const freeing = admitted ? events[0] : events[events.length - input.rpm];
      const resetMs = freeing ? Math.max(0, freeing.at + RATE_WINDOW_MS - now) : RATE_WINDOW_MS;
      state.requests = { limit: input.rpm, remaining: Math.max(0, input.rpm - events.length - (admitted ? 1 : 0)), resetMs };
      if (!admitted) rejection = { reason: "requests", retryAfterMs: resetMs };
    }
    if (input.tpm !== undefined) {
      const used = events.reduce((sum, e) => sum + e.tokens, 0);
      const admitted = used + input.estimatedTokens <= input.tpm;
      state.tokens = { limit: input.tpm, remaining: Math.max(0, input.tpm - used - (admitted ? input.estimatedTokens : 0)), resetMs: this.#tokensFreeIn(events, used, admitted ? 0 : input.estimatedTokens, input.tpm, now) };
      if (!admitted && !rejection) rejection = { reason: "tokens", retryAfterMs: state.tokens.resetMs };
    }
    if (input.budget) {
      const periodKey = periodKeyOf(input.budget.period, now);
      this.#sql.exec(`DELETE FROM kl_reservations WHERE at <= ?`, now - RESERVATION_TTL_MS);
      const spentUsd = this.#spent(periodKey);
      const reservedUsd = this.#reserved(periodKey);
      const resetMs = periodResetMs(input.budget.period, now);
      const admitted = spentUsd + reservedUsd + input.maxCostUsd <= input.budget.usd;
      state.budget = { usd: input.budget.usd, period: input.budget.period, periodKey, spentUsd, reservedUsd: reservedUsd + (admitted ? input.maxCostUsd : 0), resetMs };
      if (!admitted && !rejection) rejection = { reason: "budget", retryAfterMs: resetMs };
    }

    if (rejection) return { ok: false, ...rejection, ...state };
    if (tracksWindow) this.#sql.exec(`INSERT OR REPLACE INTO kl_events (request_id, at, tokens) VALUES (?, ?, ?)`, input.requestId, now, input.estimatedTokens);
    if (state.budget) this.#sql.exec(`INSERT OR REPLACE INTO kl_reservations (request_id, period_key, usd, at) VALUES (?, ?, ?, ?)`, input.requestId, state.budget.periodKey, input.maxCostUsd, now);
    return { ok: true, ...state };
  }

  /** Replaces a request's estimate with its real token count and its reservation with its real cost. */
  settle(input: SettleInput): void {
    this.#sql.exec(`UPDATE kl_events SET tokens = ? WHERE request_id = ?`, Math.max(0, Math.round(input.tokens)), input.requestId);
    const reservation = this.#sql.exec<{ period_key: string }>(`SELECT period_key FROM kl_reservations WHERE request_id = ?`, input.requestId).toArray()[0];
    if (!reservation) return;
    this.#sql.exec(`DELETE FROM kl_reservations WHERE request_id = ?`, input.requestId);
    if (input.costUsd > 0) {
      this.#sql.exec(`INSERT INTO kl_spend (period_key, usd) VALUES (?, ?) ON CONFLICT (period_key) DO UPDATE SET usd = usd + excluded.usd`, reservation.period_key, input.costUsd);
    }
  }

  /** Drops everything this key's limiter holds (the key was revoked; its id is never reused). */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  /** What the limiter holds right now (for the admin API and tests). */
  snapshot(now: number = Date.now()): LimiterSnapshot {
    const events = this.#windowEvents(now);
    const reservations = this.#sql.exec<{ n: number; usd: number | null }>(`SELECT COUNT(*) AS n, SUM(usd) AS usd FROM kl_reservations`).one();
    return {
      requestsInWindow: events.length,
      tokensInWindow: events.reduce((sum, e) => sum + e.tokens, 0),
      reservations: reservations.n,
      reservedUsd: reservations.usd ?? 0,
      spend: this.#sql.exec<{ period_key: string; usd: number }>(`SELECT period_key, usd FROM kl_spend ORDER BY period_key`).toArray().map((r) => ({ periodKey: r.period_key, usd: r.usd })),
    };
  }

  #windowEvents(now: number): EventRow[] {
    this.#sql.exec(`DELETE FROM kl_events WHERE at <= ?`, now - RATE_WINDOW_MS);
    return this.#sql.exec<EventRow>(`SELECT at, tokens FROM kl_events ORDER BY at, request_id`).toArray();
  }

  /** When enough tokens leave the window for `needed` more to fit (the window length if they never can). */
  #tokensFreeIn(events: EventRow[], used: number, needed: number, limit: number, now: number): number {
    // Admitted (needed 0): tokens next free when the oldest request, possibly this one, leaves the window.
    if (needed === 0) return events[0] ? Math.max(0, events[0].at + RATE_WINDOW_MS - now) : RATE_WINDOW_MS;
    if (needed > limit) return RATE_WINDOW_MS;
    let remaining = used;
    for (const event of events) {
      remaining -= event.tokens;
      if (remaining + needed <= limit) return Math.max(0, event.at + RATE_WINDOW_MS - now);
    }
    return RATE_WINDOW_MS;
  }

  #spent(periodKey: string): number {
    return this.#sql.exec<{ usd: number }>(`SELECT usd FROM kl_spend WHERE period_key = ?`, periodKey).toArray()[0]?.usd ?? 0;
  }

  #reserved(periodKey: string): number {
    return this.#sql.exec<{ usd: number | null }>(`SELECT SUM(usd) AS usd FROM kl_reservations WHERE period_key = ?`, periodKey).one().usd ?? 0;
  }
}
