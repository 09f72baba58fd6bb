import {
  LEASE_TTL_MS,
  RATE_WINDOW_MS,
  periodKeyOf,
  periodResetMs,
  type ExchangeResponse,
  type LeaseAsk,
  type LeaseClose,
  type LeaseSettlement,
  type Refusal,
  type ScopeLimits,
  type ScopeState,
} from "./protocol";

/**
 * A lease whose holder never reported on it (it died) keeps the budget it reserved for this long after it
 * expired: its requests may still be running and settling, and a crash must not unlock a budget early. Longer
 * than any request the gateway lets run.
 */
export const RESERVATION_TTL_MS = 60 * 60_000;
/**
 * A lease takes at most this share of what is left (beyond the request waiting on it): concurrent holders each
 * get a fair slice, and near a limit leases shrink to the one request that asked (exact admission).
 */
export const HEADROOM_SHARE = 4;

/**
 * Background requests (lines of gateway-run batches) take only a scope's spare capacity: they are admitted while the
 * window (or budget) stays below its limit minus this share of it, kept for interactive requests.
 */
export const BACKGROUND_RESERVE_SHARE = 0.2;
/**
 * What background requests may fill a window to: the limit minus a reserve of at least BACKGROUND_RESERVE_SHARE of
 * it and at least what interactive requests hold of the window now, so interactive traffic can double at once
 * without meeting a refusal a batch caused.
 */
const backgroundCap = (limit: number, interactive = 0): number => limit - Math.max(Math.ceil(limit * BACKGROUND_RESERVE_SHARE), interactive);
/** A background request's lease is marked in its id, so a restarted object rebuilds the split from its checkpoints. */
const BACKGROUND_LEASE_PREFIX = "bg-";
const isBackgroundLease = (id: string): boolean => id.startsWith(BACKGROUND_LEASE_PREFIX);
/** USD amounts below this are rounding noise of float sums: a reservation this small is gone. */
const USD_EPSILON = 1e-12;

export type Grant = { requests: number | null; tokens: number | null; usd: number | null };
export type Used = { requests: number; tokens: number; usd: number };

/** A granted lease as the limiter keeps it: the unit of its counters and of its SQLite checkpoints. */
export type LeaseRecord = {
  id: string;
  holder: string;
  /** Its scopes, with the budget period each budgeted scope was in when it was granted. */
  scopes: { scope: string; periodKey?: string | undefined }[];
  grantedAt: number;
  expiresAt: number;
  granted: Grant;
  /** What the holder admitted under it, once it reported the lease closed; until then the whole grant counts. */
  used: Used | null;
  /** Real tokens minus estimates of its settled requests. */
  tokensDelta: number;
  /** Maximum cost its settled requests had reserved. */
  usdReleased: number;
  /** The last settlement batch applied (batches are numbered per lease by the holder). */
  settledSeq: number;
};

/** Where the ledger's checkpoints go (the Durable Object's SQLite); every method is synchronous. */
export type LedgerStore = {
  saveLease(lease: LeaseRecord): void;
  deleteLease(id: string): void;
  loadSpend(scope: string, periodKey: string): number;
  saveSpend(scope: string, periodKey: string, usd: number): void;
};

type Counted = { requests: number; tokens: number; held: number };

const countedOf = (lease: LeaseRecord): Counted => ({
  requests: lease.used ? lease.used.requests : (lease.granted.requests ?? 0),
  tokens: Math.max(0, (lease.used ? lease.used.tokens : (lease.granted.tokens ?? 0)) + lease.tokensDelta),
  held: Math.max(0, (lease.used ? lease.used.usd : (lease.granted.usd ?? 0)) - lease.usdReleased),
});

/** One scope's running sums: requests and tokens of the leases in its rate window, USD held per budget period. */
class ScopeTally {
  requests = 0;
  tokens = 0;
  /** Of those, what background requests (batch lines) hold: the rest is interactive use, which the reserve covers. */
  backgroundRequests = 0;
  backgroundTokens = 0;
  readonly held = new Map<string, number>();

  heldIn(periodKey: string): number {
    const held = this.held.get(periodKey) ?? 0;
    return held < USD_EPSILON ? 0 : held;
  }
}

type Entry = { lease: LeaseRecord; counted: Counted; inWindow: boolean };

export type LedgerSnapshot = {
  requestsInWindow: number;
  tokensInWindow: number;
  /** Leases still holding part of this scope's budget (their requests have not all settled). */
  reservations: number;
  reservedUsd: number;
  /** Unexpired leases covering this scope, and how many holders hold them. */
  openLeases: number;
  holders: number;
  spend: { periodKey: string; usd: number }[];
};

/**
 * The limiter's counters, in memory. Everything is counted by lease: a lease's units count as used from the
 * moment it is granted (the holder may spend them without asking again) until its holder reports what it
 * really admitted. For the rate windows a lease counts until RATE_WINDOW_MS after it expires — the last moment a
 * request could have been admitted under it — so no window ever holds more than `rpm` / `tpm` admissions,
 * wherever they were admitted. For budgets a lease holds its USD until its requests settle. Every change is
 * checkpointed to the store in the same synchronous call, so a restarted object rebuilds exactly these
 * counters: it never admits more after a restart than before.
 */
export class LeaseLedger {
  readonly #store: LedgerStore;
  readonly #entries = new Map<string, Entry>();
  readonly #tallies = new Map<string, ScopeTally>();
  /** Leases in rate windows, in expiry order. */
  #window: Entry[] = [];
  /** Leases out of their window still holding USD, in expiry order (released after RESERVATION_TTL_MS). */
  #holding: Entry[] = [];
  readonly #spend = new Map<string, number>();
  #sequence = 0;

  constructor(store: LedgerStore, leases: LeaseRecord[] = []) {
    this.#store = store;
    for (const lease of [...leases].sort((a, b) => a.expiresAt - b.expiresAt)) this.#insert(lease, false);
  }

  /** One exchange: closes and settlements first (they free room), then the ask. Synchronous: exchanges never interleave. */
  exchange(holder: string, input: { ask?: LeaseAsk | undefined; closed: LeaseClose[]; settled: LeaseSettlement[] }, now: number): ExchangeResponse {
    this.#advance(now);
    for (const close of input.closed) this.#close(close, holder, now);
    for (const settlement of input.settled) this.#settle(settlement, holder, now);
    if (!input.ask) return { ok: true, lease: null, scopes: [] };
    return this.#grant(holder, input.ask, now);
  }

  #tally(scope: string): ScopeTally {
    let tally = this.#tallies.get(scope);
    if (!tally) {
      tally = new ScopeTally();
      this.#tallies.set(scope, tally);
    }
    return tally;
  }

  #spent(scope: string, periodKey: string): number {
    const key = `${scope}\u0000${periodKey}`;
    let spent = this.#spend.get(key);
    if (spent === undefined) {
      spent = this.#store.loadSpend(scope, periodKey);
      this.#spend.set(key, spent);
    }
    return spent;
  }

  #addSpend(scope: string, periodKey: string, usd: number): void {
    const total = this.#spent(scope, periodKey) + usd;
    this.#spend.set(`${scope}\u0000${periodKey}`, total);
    this.#store.saveSpend(scope, periodKey, total);
  }

  /** Adds a lease's counted amounts to (sign 1) or removes them from (sign -1) its scopes' sums. */
  #apply(entry: Entry, sign: 1 | -1, window: boolean, held: boolean): void {
    for (const { scope, periodKey } of entry.lease.scopes) {
      const tally = this.#tally(scope);
      if (window) {
        tally.requests += sign * entry.counted.requests;
        tally.tokens += sign * entry.counted.tokens;
        if (isBackgroundLease(entry.lease.id)) {
          tally.backgroundRequests += sign * entry.counted.requests;
          tally.backgroundTokens += sign * entry.counted.tokens;
        }
      }
      if (held && periodKey !== undefined) tally.held.set(periodKey, (tally.held.get(periodKey) ?? 0) + sign * entry.counted.held);
    }
  }

  #insert(lease: LeaseRecord, persist: boolean): void {
    const entry: Entry = { lease, counted: countedOf(lease), inWindow: true };
    this.#entries.set(lease.id, entry);
    let index = this.#window.length;
    // Expiries only go forward in production; injected test clocks may not, so keep the order exact.
    while (index > 0 && this.#window[index - 1]!.lease.expiresAt > lease.expiresAt) index--;
    this.#window.splice(index, 0, entry);
    this.#apply(entry, 1, true, true);
    if (persist) this.#store.saveLease(lease);
  }

  /** Recounts a lease after a change and checkpoints it (or drops it when it has nothing left to count). */
  #recount(entry: Entry, now: number): void {
    this.#apply(entry, -1, entry.inWindow, true);
    entry.counted = countedOf(entry.lease);
    this.#apply(entry, 1, entry.inWindow, true);
    if (!entry.inWindow && (entry.counted.held < USD_EPSILON || entry.lease.expiresAt + RESERVATION_TTL_MS <= now)) this.#drop(entry);
    else this.#store.saveLease(entry.lease);
  }

  #drop(entry: Entry): void {
    this.#apply(entry, -1, entry.inWindow, true);
    entry.counted = { requests: 0, tokens: 0, held: 0 };
    this.#entries.delete(entry.lease.id);
    this.#store.deleteLease(entry.lease.id);
  }

  /** Leases whose window passed leave the rate sums; reservations of vanished holders go after RESERVATION_TTL_MS. */
  #advance(now: number): void {
    let leaving = 0;
    while (leaving < this.#window.length && this.#window[leaving]!.lease.expiresAt + RATE_WINDOW_MS <= now) leaving++;
    if (leaving > 0) {
      for (const entry of this.#window.splice(0, leaving)) {
        if (!this.#entries.has(entry.lease.id)) continue;
        this.#apply(entry, -1, true, false);
        entry.inWindow = false;
        if (entry.counted.held < USD_EPSILON) this.#drop(entry);
        else this.#holding.push(entry);
      }
    }
    let released = 0;
    while (released < this.#holding.length && this.#holding[released]!.lease.expiresAt + RESERVATION_TTL_MS <= now) released++;
    if (released > 0) for (const entry of this.#holding.splice(0, released)) if (this.#entries.has(entry.lease.id)) this.#drop(entry);
  }

  #own(leaseId: string, holder: string): Entry | undefined {
    const entry = this.#entries.get(leaseId);
    // Only a lease's own holder reports on it.
    return entry && entry.lease.holder === holder ? entry : undefined;
  }

  #close(close: LeaseClose, holder: string, now: number): void {
    const entry = this.#own(close.lease, holder);
    if (!entry || entry.lease.used) return;
    const { granted } = entry.lease;
    // A holder never admits more than it was granted; a report claiming more is clamped to the grant.
    entry.lease.used = {
      requests: granted.requests === null ? close.requests : Math.min(close.requests, granted.requests),
      tokens: granted.tokens === null ? close.tokens : Math.min(close.tokens, granted.tokens),
      usd: granted.usd === null ? close.usd : Math.min(close.usd, granted.usd),
    };
    this.#recount(entry, now);
  }

  #settle(settlement: LeaseSettlement, holder: string, now: number): void {
    const entry = this.#own(settlement.lease, holder);
    if (!entry || settlement.seq <= entry.lease.settledSeq) return;
    entry.lease.settledSeq = settlement.seq;
    if (settlement.usdSpent > 0) for (const { scope, periodKey } of entry.lease.scopes) if (periodKey !== undefined) this.#addSpend(scope, periodKey, settlement.usdSpent);
    entry.lease.tokensDelta += settlement.tokensDelta;
    entry.lease.usdReleased += settlement.usdReleased;
    this.#recount(entry, now);
  }

  #grant(holder: string, ask: LeaseAsk, now: number): ExchangeResponse {
    const first = ask.first;
    const { want } = ask;
    const background = ask.priority === "background";
    // A background request gets exactly itself: batch lines never hold room that interactive requests could use.
    let extra = background ? 0 : want.requests;
    let refusal: Omit<Refusal, "ok" | "scopes"> | undefined;
    for (const limits of ask.scopes) {
      const tally = this.#tally(limits.scope);
      if (limits.rpm !== undefined) {
        const rpm = background ? backgroundCap(limits.rpm, tally.requests - tally.backgroundRequests) : limits.rpm;
        const room = rpm - tally.requests - (first ? 1 : 0);
        if (room < 0) refusal ??= { scope: limits.scope, reason: "requests", retryAfterMs: background && backgroundCap(limits.rpm) < 1 ? null : this.#freedIn(limits.scope, "requests", tally.requests + 1 - rpm, now) };
        extra = Math.min(extra, Math.floor(Math.max(0, room) / HEADROOM_SHARE));
      }
      if (limits.tpm !== undefined) {
        const tpm = background ? backgroundCap(limits.tpm, tally.tokens - tally.backgroundTokens) : limits.tpm;
        const needed = first?.tokens ?? 0;
        const room = tpm - tally.tokens - needed;
        const never = background && needed > backgroundCap(limits.tpm);
        if (room < 0) refusal ??= { scope: limits.scope, reason: "tokens", retryAfterMs: never ? null : needed > tpm ? RATE_WINDOW_MS : this.#freedIn(limits.scope, "tokens", tally.tokens + needed - tpm, now) };
        if (want.tokensPerRequest > 0) extra = Math.min(extra, Math.floor(Math.max(0, room) / (HEADROOM_SHARE * want.tokensPerRequest)));
      }
      if (limits.budget) {
        const periodKey = periodKeyOf(limits.budget.period, now);
        const spent = this.#spent(limits.scope, periodKey);
        const needed = first?.usd ?? 0;
        const usable = background ? limits.budget.usd * (1 - BACKGROUND_RESERVE_SHARE) : limits.budget.usd;
        const room = usable - spent - tally.heldIn(periodKey) - needed;
        // A budget whose settled spend reached it refuses everything, free requests too, until the period resets.
        if (room < -USD_EPSILON || spent >= limits.budget.usd) refusal ??= { scope: limits.scope, reason: "budget", retryAfterMs: periodResetMs(limits.budget.period, now) };
        if (want.usdPerRequest > 0) extra = Math.min(extra, Math.floor(Math.max(0, room) / (HEADROOM_SHARE * want.usdPerRequest)));
      }
    }
    if (first && refusal) return { ok: false, scopes: this.#states(ask.scopes, now), ...refusal };
    if (refusal) extra = 0;
    if (!first && extra <= 0) return { ok: true, lease: null, scopes: this.#states(ask.scopes, now) };
    const requests = (first ? 1 : 0) + extra;
    const granted: Grant = {
      // A lease of only the waiting request is limited to it even without an rpm: the holder closes it at once.
      requests: extra === 0 || ask.scopes.some((s) => s.rpm !== undefined) ? requests : null,
      tokens: ask.scopes.some((s) => s.tpm !== undefined) ? (first?.tokens ?? 0) + extra * want.tokensPerRequest : null,
      usd: ask.scopes.some((s) => s.budget) ? (first?.usd ?? 0) + extra * want.usdPerRequest : null,
    };
    const lease: LeaseRecord = {
      id: `${background ? BACKGROUND_LEASE_PREFIX : ""}${now.toString(36)}-${(this.#sequence++).toString(36)}-${crypto.randomUUID().slice(0, 8)}`,
      holder,
      scopes: ask.scopes.map((limits) => ({ scope: limits.scope, ...(limits.budget ? { periodKey: periodKeyOf(limits.budget.period, now) } : {}) })),
      grantedAt: now,
      // A lease of only the waiting request is spent the moment it is granted: it counts from now, not from its expiry.
      expiresAt: extra > 0 ? now + LEASE_TTL_MS : now,
      granted,
      used: null,
      tokensDelta: 0,
      usdReleased: 0,
      settledSeq: 0,
    };
    this.#insert(lease, true);
    return { ok: true, lease: { id: lease.id, ttlMs: LEASE_TTL_MS, ...granted }, scopes: this.#states(ask.scopes, now) };
  }

  /** When enough of a scope's window leaves for `excess` units (requests or tokens) to be free. */
  #freedIn(scope: string, unit: "requests" | "tokens", excess: number, now: number): number {
    let freed = 0;
    for (const entry of this.#window) {
      if (!entry.lease.scopes.some((s) => s.scope === scope)) continue;
      freed += entry.counted[unit];
      if (freed >= excess) return Math.max(0, entry.lease.expiresAt + RATE_WINDOW_MS - now);
    }
    return RATE_WINDOW_MS;
  }

  /** The next time a scope's window frees anything (its oldest lease leaves). */
  #nextFreeIn(scope: string, now: number): number {
    for (const entry of this.#window) if (entry.lease.scopes.some((s) => s.scope === scope)) return Math.max(0, entry.lease.expiresAt + RATE_WINDOW_MS - now);
    return RATE_WINDOW_MS;
  }

  #states(scopes: ScopeLimits[], now: number): ScopeState[] {
    return scopes.map((limits) => {
      const tally = this.#tally(limits.scope);
      const state: ScopeState = { scope: limits.scope };
      const resetMs = limits.rpm !== undefined || limits.tpm !== undefined ? this.#nextFreeIn(limits.scope, now) : 0;
      if (limits.rpm !== undefined) state.requests = { limit: limits.rpm, remaining: Math.max(0, limits.rpm - tally.requests), resetMs };
      if (limits.tpm !== undefined) state.tokens = { limit: limits.tpm, remaining: Math.max(0, limits.tpm - tally.tokens), resetMs };
      if (limits.budget) {
        const periodKey = periodKeyOf(limits.budget.period, now);
        state.budget = { usd: limits.budget.usd, period: limits.budget.period, periodKey, spentUsd: this.#spent(limits.scope, periodKey), reservedUsd: tally.heldIn(periodKey), resetMs: periodResetMs(limits.budget.period, now) };
      }
      return state;
    });
  }

  /** What the ledger holds for one scope at `now`. */
  snapshot(scope: string, now: number, spend: { periodKey: string; usd: number }[]): LedgerSnapshot {
    this.#advance(now);
    const tally = this.#tally(scope);
    let reservations = 0;
    let reservedUsd = 0;
    let openLeases = 0;
    const holders = new Set<string>();
    for (const { lease, counted } of this.#entries.values()) {
      if (!lease.scopes.some((s) => s.scope === scope)) continue;
      if (counted.held >= USD_EPSILON) {
        reservations++;
        reservedUsd += counted.held;
      }
      if (!lease.used && lease.expiresAt > now) {
        openLeases++;
        holders.add(lease.holder);
      }
    }
    return { requestsInWindow: tally.requests, tokensInWindow: tally.tokens, reservations, reservedUsd, openLeases, holders: holders.size, spend };
  }
}
