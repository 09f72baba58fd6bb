import { DurableObject } from "cloudflare:workers";

/** The rate windows are sliding: a request counts against the limit for exactly this long after admission. */
export const RATE_WINDOW_MS = 60_000;
/**
 * A reservation a request never settled (its isolate died mid-request) is released after this long, so a crash
 * cannot lock a budget forever. Longer than any request the gateway lets run.
 */
export const RESERVATION_TTL_MS = 60 * 60_000;
/**
 * Background requests (lines of gateway-run batches) take only a scope's spare capacity: they are admitted while
 * the window (or budget) stays below its limit minus a reserve kept for interactive requests. The reserve is at
 * least this share of the limit, and on rates at least what interactive requests used in the current window, so
 * interactive traffic can double at once without meeting a refusal a batch caused.
 */
export const BACKGROUND_RESERVE_SHARE = 0.2;
const SCHEMA_VERSION = 2;

export type BudgetPeriod = "day" | "month" | "total";

/** The limits of one scope (a key, or the whole workspace) that a request must fit in. */
export type ScopeLimits = {
  /** `key:<keyId>` or `workspace`: counters are kept per scope. */
  scope: string;
  rpm?: number;
  tpm?: number;
  budget?: { usd: number; period: BudgetPeriod };
};

export type AdmitInput = {
  requestId: string;
  /** Limits travel with every call (they live on the key record and the config), so a change applies at once. */
  scopes: ScopeLimits[];
  /** Admission-time token estimate (prompt estimate + max_tokens); settlement replaces it with the real count. */
  estimatedTokens: number;
  /** The most this request can cost; reserved in every budgeted scope until settlement. */
  maxCostUsd: number;
  /** `background`: admitted only into spare capacity (BACKGROUND_RESERVE_SHARE); default `interactive`. */
  priority?: Priority;
  /** Milliseconds since the epoch; tests inject it to cross windows and periods without sleeping. */
  now?: number;
};

export type Priority = "interactive" | "background";

export type WindowState = { limit: number; remaining: number; resetMs: number };
export type BudgetState = { usd: number; period: BudgetPeriod; periodKey: string; spentUsd: number; reservedUsd: number; resetMs: number | null };
export type ScopeState = { scope: string; requests?: WindowState; tokens?: WindowState; budget?: BudgetState };
export type Refusal = { scope: string; reason: "requests" | "tokens" | "budget"; retryAfterMs: number | null };

export type AdmitResult = { ok: true; scopes: ScopeState[] } | ({ ok: false; scopes: ScopeState[] } & Refusal);

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

type EventRow = { id: string; at: number; tokens: number; background: boolean };

/**
 * One scope's requests inside the rate window, held in memory in admission order with a running token sum, so
 * admission costs O(requests leaving the window) instead of a read of the whole window. SQLite stays the record
 * (the window is rebuilt from it after the object restarts); only this object writes either.
 */
class ScopeWindow {
  readonly events: EventRow[] = [];
  readonly byId = new Map<string, EventRow>();
  tokens = 0;
  /** What interactive requests hold of the window: the background reserve never falls below it. */
  interactiveCount = 0;
  interactiveTokens = 0;

  constructor(rows: EventRow[]) {
    for (const row of rows) this.add(row);
  }

  add(row: EventRow): void {
    // Admission times only go forward in production; injected test clocks may not, so keep the order exact.
    let index = this.events.length;
    while (index > 0 && this.events[index - 1]!.at > row.at) index--;
    this.events.splice(index, 0, row);
    this.byId.set(row.id, row);
    this.#count(row, 1);
  }

  evictUpTo(cutoff: number): void {
    let count = 0;
    while (count < this.events.length && this.events[count]!.at <= cutoff) {
      const row = this.events[count]!;
      this.byId.delete(row.id);
      this.#count(row, -1);
      count++;
    }
    if (count > 0) this.events.splice(0, count);
  }

  setTokens(id: string, tokens: number): void {
    const row = this.byId.get(id);
    if (!row) return;
    this.#count(row, -1);
    row.tokens = tokens;
    this.#count(row, 1);
  }

  #count(row: EventRow, sign: 1 | -1): void {
    this.tokens += sign * row.tokens;
    if (row.background) return;
    this.interactiveCount += sign;
    this.interactiveTokens += sign * row.tokens;
  }
}

/**
 * Rate limits and budgets, one instance per key (`key:<keyId>`) or, when the workspace has limits of its own, one
 * per workspace (`ws:<workspaceId>`) holding the workspace's and each key's counters as separate scopes. Every
 * method is synchronous SQLite work with no await in between, so concurrent requests are admitted strictly one
 * after another: with `rpm: N`, exactly N of N+k simultaneous requests get in. Admission checks every scope's
 * requests, tokens and budget together and records nothing unless all pass.
 */
export class KeyLimiter extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #windows = new Map<string, ScopeWindow>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#ensureSchema();
  }

  #ensureSchema(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
    const row = this.#sql.exec<{ value: number }>(`SELECT value FROM kl_meta WHERE key = 'schema_version'`).toArray()[0];
    if (row && row.value >= SCHEMA_VERSION) return;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_events (scope TEXT NOT NULL, request_id TEXT NOT NULL, at INTEGER NOT NULL, tokens INTEGER NOT NULL, PRIMARY KEY (scope, request_id))`);
    this.#sql.exec(`CREATE INDEX IF NOT EXISTS kl_events_scope_at ON kl_events (scope, at)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_reservations (scope TEXT NOT NULL, request_id TEXT NOT NULL, period_key TEXT NOT NULL, usd REAL NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (scope, request_id))`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_spend (scope TEXT NOT NULL, period_key TEXT NOT NULL, usd REAL NOT NULL, PRIMARY KEY (scope, period_key))`);
    // v2: which requests in the window are background ones (batch lines).
    const columns = this.#sql.exec<{ name: string }>(`PRAGMA table_info(kl_events)`).toArray();
    if (!columns.some((c) => c.name === "background")) this.#sql.exec(`ALTER TABLE kl_events ADD COLUMN background INTEGER NOT NULL DEFAULT 0`);
    this.#sql.exec(`INSERT INTO kl_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, SCHEMA_VERSION);
  }

  /** Admits a request against every scope's rpm, tpm and budget in one step; records it only when all pass. */
  admit(input: AdmitInput): AdmitResult {
    const now = input.now ?? Date.now();
    this.#sql.exec(`DELETE FROM kl_reservations WHERE at <= ?`, now - RESERVATION_TTL_MS);
    const states: ScopeState[] = [];
    let refusal: Refusal | undefined;
    for (const limits of input.scopes) {
      const { state, refused } = this.#check(limits, input, now);
      states.push(state);
      refusal ??= refused;
    }
    if (refusal) return { ok: false, scopes: states, ...refusal };
    const background = input.priority === "background";
    for (const limits of input.scopes) {
      if (limits.rpm !== undefined || limits.tpm !== undefined) {
        this.#sql.exec(`INSERT OR REPLACE INTO kl_events (scope, request_id, at, tokens, background) VALUES (?, ?, ?, ?, ?)`, limits.scope, input.requestId, now, input.estimatedTokens, background ? 1 : 0);
        const window = this.#window(limits.scope, now);
        if (window.byId.has(input.requestId)) window.setTokens(input.requestId, input.estimatedTokens);
        else window.add({ id: input.requestId, at: now, tokens: input.estimatedTokens, background });
      }
      if (limits.budget) {
        this.#sql.exec(
          `INSERT OR REPLACE INTO kl_reservations (scope, request_id, period_key, usd, at) VALUES (?, ?, ?, ?, ?)`,
          limits.scope,
          input.requestId,
          periodKeyOf(limits.budget.period, now),
          input.maxCostUsd,
          now,
        );
      }
    }
    return { ok: true, scopes: states };
  }

  /** One scope's state as it would be after admitting the request, and why it refuses, if it does. */
  #check(limits: ScopeLimits, input: AdmitInput, now: number): { state: ScopeState; refused: Refusal | undefined } {
    const { scope } = limits;
    const state: ScopeState = { scope };
    let refused: Refusal | undefined;
    const window = limits.rpm !== undefined || limits.tpm !== undefined ? this.#window(scope, now) : undefined;
    const events = window?.events ?? [];
    if (limits.rpm !== undefined) {
      const admitted = events.length < limits.rpm;
      // Admitted: the window next frees a slot when its oldest request leaves (this one, if it is alone).
      // Refused: when enough of the oldest leave for one more to fit.
      const freeing = admitted ? events[0] : events[events.length - limits.rpm];
      const resetMs = freeing ? Math.max(0, freeing.at + RATE_WINDOW_MS - now) : RATE_WINDOW_MS;
      state.requests = { limit: limits.rpm, remaining: Math.max(0, limits.rpm - events.length - (admitted ? 1 : 0)), resetMs };
      if (!admitted) refused = { scope, reason: "requests", retryAfterMs: resetMs };
    }
    if (limits.tpm !== undefined) {
      const used = window?.tokens ?? 0;
      const admitted = used + input.estimatedTokens <= limits.tpm;
      const resetMs = this.#tokensFreeIn(events, used, admitted ? 0 : input.estimatedTokens, limits.tpm, now);
      state.tokens = { limit: limits.tpm, remaining: Math.max(0, limits.tpm - used - (admitted ? input.estimatedTokens : 0)), resetMs };
      if (!admitted) refused ??= { scope, reason: "tokens", retryAfterMs: resetMs };
    }
    if (limits.budget) {
      const periodKey = periodKeyOf(limits.budget.period, now);
      const spentUsd = this.#spent(scope, periodKey);
      const reservedUsd = this.#reserved(scope, periodKey);
      const resetMs = periodResetMs(limits.budget.period, now);
      const admitted = spentUsd + reservedUsd + input.maxCostUsd <= limits.budget.usd;
      state.budget = { usd: limits.budget.usd, period: limits.budget.period, periodKey, spentUsd, reservedUsd: reservedUsd + (admitted ? input.maxCostUsd : 0), resetMs };
      if (!admitted) refused ??= { scope, reason: "budget", retryAfterMs: resetMs };
    }
    if (input.priority === "background") refused ??= this.#backgroundRefusal(limits, input, now, window);
    return { state, refused };
  }

  /**
   * Whether a background request would eat into what is kept for interactive ones (BACKGROUND_RESERVE_SHARE):
   * the refusal says when to ask again — when the window's oldest request leaves it (rates) or the budget's period
   * resets — with `retryAfterMs: null` when the request can never fit in what background requests may use.
   */
  #backgroundRefusal(limits: ScopeLimits, input: AdmitInput, now: number, window: ScopeWindow | undefined): Refusal | undefined {
    const { scope } = limits;
    const oldest = window?.events[0];
    const windowTurns = oldest ? Math.max(0, oldest.at + RATE_WINDOW_MS - now) : RATE_WINDOW_MS;
    const fixedReserve = (limit: number) => Math.ceil(limit * BACKGROUND_RESERVE_SHARE);
    if (limits.rpm !== undefined && window) {
      const room = limits.rpm - Math.max(fixedReserve(limits.rpm), window.interactiveCount);
      if (window.events.length + 1 > room) return { scope, reason: "requests", retryAfterMs: limits.rpm - fixedReserve(limits.rpm) < 1 ? null : windowTurns };
    }
    if (limits.tpm !== undefined && window) {
      const room = limits.tpm - Math.max(fixedReserve(limits.tpm), window.interactiveTokens);
      if (window.tokens + input.estimatedTokens > room) return { scope, reason: "tokens", retryAfterMs: input.estimatedTokens > limits.tpm - fixedReserve(limits.tpm) ? null : windowTurns };
    }
    if (limits.budget) {
      const periodKey = periodKeyOf(limits.budget.period, now);
      const usable = limits.budget.usd * (1 - BACKGROUND_RESERVE_SHARE);
      if (this.#spent(scope, periodKey) + this.#reserved(scope, periodKey) + input.maxCostUsd > usable) return { scope, reason: "budget", retryAfterMs: periodResetMs(limits.budget.period, now) };
    }
    return undefined;
  }

  /** Replaces a request's estimate with its real token count and its reservations with its real cost, in every scope. */
  settle(input: SettleInput): void {
    const tokens = Math.max(0, Math.round(input.tokens));
    let updated = false;
    for (const [scope, window] of this.#windows) {
      if (!window.byId.has(input.requestId)) continue;
      window.setTokens(input.requestId, tokens);
      this.#sql.exec(`UPDATE kl_events SET tokens = ? WHERE scope = ? AND request_id = ?`, tokens, scope, input.requestId);
      updated = true;
    }
    // The object restarted since admission (its windows are rebuilt lazily): find the request by id instead.
    if (!updated) this.#sql.exec(`UPDATE kl_events SET tokens = ? WHERE request_id = ?`, tokens, input.requestId);
    const reservations = this.#sql.exec<{ scope: string; period_key: string }>(`SELECT scope, period_key FROM kl_reservations WHERE request_id = ?`, input.requestId).toArray();
    this.#sql.exec(`DELETE FROM kl_reservations WHERE request_id = ?`, input.requestId);
    if (input.costUsd <= 0) return;
    for (const reservation of reservations) {
      this.#sql.exec(
        `INSERT INTO kl_spend (scope, period_key, usd) VALUES (?, ?, ?) ON CONFLICT (scope, period_key) DO UPDATE SET usd = usd + excluded.usd`,
        reservation.scope,
        reservation.period_key,
        input.costUsd,
      );
    }
  }

  /** Settles several requests in one call (the gateway batches settlements per limiter). */
  settleMany(inputs: SettleInput[]): void {
    for (const input of inputs) this.settle(input);
  }

  /** Drops everything this limiter holds (its key was revoked or its workspace deleted; ids are never reused). */
  async forget(): Promise<void> {
    this.#windows.clear();
    await this.ctx.storage.deleteAll();
  }

  /** What the limiter holds for one scope right now (for the admin API and tests). */
  snapshot(scope: string, now: number = Date.now()): LimiterSnapshot {
    const window = this.#window(scope, now);
    const reservations = this.#sql.exec<{ n: number; usd: number | null }>(`SELECT COUNT(*) AS n, SUM(usd) AS usd FROM kl_reservations WHERE scope = ?`, scope).one();
    return {
      requestsInWindow: window.events.length,
      tokensInWindow: window.tokens,
      reservations: reservations.n,
      reservedUsd: reservations.usd ?? 0,
      spend: this.#sql
        .exec<{ period_key: string; usd: number }>(`SELECT period_key, usd FROM kl_spend WHERE scope = ? ORDER BY period_key`, scope)
        .toArray()
        .map((r) => ({ periodKey: r.period_key, usd: r.usd })),
    };
  }

  /** The scope's requests inside the window at `now`; those that left it are dropped from memory and storage. */
  #window(scope: string, now: number): ScopeWindow {
    const cutoff = now - RATE_WINDOW_MS;
    let window = this.#windows.get(scope);
    if (!window) {
      const rows = this.#sql
        .exec<{ id: string; at: number; tokens: number; background: number }>(`SELECT request_id AS id, at, tokens, background FROM kl_events WHERE scope = ? AND at > ? ORDER BY at, request_id`, scope, cutoff)
        .toArray();
      window = new ScopeWindow(rows.map((row) => ({ ...row, background: row.background === 1 })));
      this.#windows.set(scope, window);
      this.#sql.exec(`DELETE FROM kl_events WHERE scope = ? AND at <= ?`, scope, cutoff);
    }
    const oldest = window.events[0];
    if (oldest && oldest.at <= cutoff) {
      window.evictUpTo(cutoff);
      this.#sql.exec(`DELETE FROM kl_events WHERE scope = ? AND at <= ?`, scope, cutoff);
    }
    return window;
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

  #spent(scope: string, periodKey: string): number {
    return this.#sql.exec<{ usd: number }>(`SELECT usd FROM kl_spend WHERE scope = ? AND period_key = ?`, scope, periodKey).toArray()[0]?.usd ?? 0;
  }

  #reserved(scope: string, periodKey: string): number {
    return this.#sql.exec<{ usd: number | null }>(`SELECT SUM(usd) AS usd FROM kl_reservations WHERE scope = ? AND period_key = ?`, scope, periodKey).one().usd ?? 0;
  }
}
