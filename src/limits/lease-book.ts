import type { ExchangeResponse, LeaseClose, LeaseSettlement, Refusal, ScopeLimits, ScopeState } from "./protocol";
import type { LeaseTransport } from "./transport";

/**
 * The holder's side of leased admission: the leases one isolate (or, later, one self-hosted node) holds, per
 * limiter and set of scopes. A request that a held lease covers is admitted with no await at all; the request
 * that finds its lease running low (less than RENEW_AT of its units or time left) asks for the next one in the
 * background, so in the steady state nobody waits on the limiter. A request no held lease covers makes its own
 * exchange (never waiting on another request's I/O), and the lease that comes back serves later requests too.
 *
 * What the holder did with its leases — the units each closed lease really admitted, and the real tokens and
 * cost of finished requests — rides on its next exchange with that limiter, or is sent on its own within
 * REPORT_FLUSH_MS. Reports to one limiter go one exchange at a time, in order; a report whose exchange failed is
 * sent again (settlement batches are numbered, so the limiter applies each once).
 */

/**
 * Reports waiting this long without another exchange to carry them are sent on their own. Under steady traffic
 * the next renewal carries them first; this bounds how late an idle holder's last settlements arrive.
 */
export const REPORT_FLUSH_MS = 1_000;
/** Asks for room for this many lease periods of the observed rate, so bursts do not empty a lease before its renewal. */
const RATE_HEADROOM = 1.5;
/** The next lease is asked for when this share of the current one's time or units is left. */
const RENEW_AT = 0.3;
/** A rate measured over less than this is too noisy to size a lease on. */
const MIN_RATE_SAMPLE_MS = 50;
/** Smoothing of the observed rate and request sizes (weight of the newest sample). */
const SMOOTHING = 0.5;
const USD_EPSILON = 1e-12;
const NO_ROOM = { requests: 0, tokensPerRequest: 0, usdPerRequest: 0 };

/** What one request needs from a lease: its token estimate and its maximum cost. */
export type Demand = { tokens: number; usd: number };

/** What an admitted request carries to its settlement. */
export type AdmissionTicket = { limiter: string; lease: string; tokens: number; usd: number };

export type Admitted = { ok: true; ticket: AdmissionTicket; scopes: ScopeState[] };
export type AdmitResult = Admitted | Refusal;

/** Runs a promise in the background of the current request (`ctx.waitUntil`). */
export type Background = (promise: Promise<unknown>) => void;

type Units = { requests: number; tokens: number; usd: number };

type HeldLease = {
  id: string;
  /** Local time it was asked for (its clock starts there, never later than the limiter's). */
  askedAt: number;
  expiresAt: number;
  ttlMs: number;
  granted: { requests: number | null; tokens: number | null; usd: number | null };
  used: Units;
  /** The limiter's view right after it granted the lease. */
  scopes: ScopeState[];
  closed: boolean;
};

type Slot = {
  limiter: string;
  scopes: ScopeLimits[];
  active: HeldLease | undefined;
  /** An exchange asking for room beyond its own request is out: others ask only for themselves meanwhile. */
  asking: boolean;
  /** Requests admitted since `markedAt`, and the smoothed rate (requests per ms). */
  admitted: number;
  markedAt: number;
  rate: number;
  avgTokens: number | undefined;
  avgUsd: number | undefined;
  /** Smoothed round-trip time of this slot's exchanges (ms): the next lease is asked for at least twice this early. */
  latencyMs: number;
};

type OpenSettlement = Omit<LeaseSettlement, "seq">;

/** Per limiter: reports waiting to be sent, and whether an exchange carrying reports is out. */
type Outbox = {
  closed: LeaseClose[];
  /** Settlement batches already numbered (sent once and failed), in order. */
  numbered: LeaseSettlement[];
  open: Map<string, OpenSettlement>;
  sending: boolean;
  flushScheduled: boolean;
  /** When the oldest report still waiting was queued (undefined: nothing waits). */
  waitingSince: number | undefined;
};

const slotKey = (limiter: string, scopes: ScopeLimits[]) => `${limiter}\u0000${JSON.stringify(scopes)}`;

function remaining(lease: HeldLease): Units {
  const left = (granted: number | null, used: number) => (granted === null ? Number.POSITIVE_INFINITY : granted - used);
  return { requests: left(lease.granted.requests, lease.used.requests), tokens: left(lease.granted.tokens, lease.used.tokens), usd: left(lease.granted.usd, lease.used.usd) };
}

const covers = (left: Units, demand: Demand) => left.requests >= 1 && left.tokens >= demand.tokens && left.usd + USD_EPSILON >= demand.usd;

export class LeaseBook {
  readonly holder: string;
  readonly #transport: LeaseTransport;
  readonly #clock: () => number;
  readonly #expiryTimers: boolean;
  readonly #reportFlushMs: number;
  readonly #slots = new Map<string, Slot>();
  /** The same slots by the identity of the callers' scope lists (callers keep them per key), sparing a key per request. */
  readonly #slotsByScopes = new WeakMap<ScopeLimits[], Slot>();
  readonly #outboxes = new Map<string, Outbox>();
  /** Numbers settlement batches: increasing across all leases, so each lease's batches are numbered in order. */
  #batches = 0;

  /**
   * `clock` and `expiryTimers: false` are for tests that drive time by hand (leases then close when they are
   * next looked at after expiring, or on `flush`); `reportFlushMs` defaults to REPORT_FLUSH_MS.
   */
  constructor(transport: LeaseTransport, options: { holder: string; clock?: () => number; expiryTimers?: boolean; reportFlushMs?: number }) {
    this.#transport = transport;
    this.holder = options.holder;
    this.#clock = options.clock ?? Date.now;
    this.#expiryTimers = options.expiryTimers ?? true;
    this.#reportFlushMs = options.reportFlushMs ?? REPORT_FLUSH_MS;
  }

  /** Admits from a held lease, synchronously; undefined when none covers the demand (the caller then exchanges). */
  admitHeld(limiter: string, scopes: ScopeLimits[], demand: Demand, background: Background): Admitted | undefined {
    const known = this.#slotsByScopes.get(scopes);
    const slot = known && known.limiter === limiter ? known : this.#slots.get(slotKey(limiter, scopes));
    const lease = slot?.active;
    if (!slot || !lease) return undefined;
    const now = this.#clock();
    if (now >= lease.expiresAt) {
      this.#close(slot, lease, background);
      return undefined;
    }
    if (!covers(remaining(lease), demand)) return undefined;
    const admitted = this.#take(slot, lease, demand, now);
    const left = remaining(lease);
    if (left.requests < 1) this.#close(slot, lease, background);
    else if (!slot.asking && (lease.expiresAt - now < lease.ttlMs * RENEW_AT + 2 * slot.latencyMs || (lease.granted.requests !== null && left.requests < lease.granted.requests * RENEW_AT + 2 * slot.latencyMs * slot.rate))) {
      slot.asking = true;
      background(this.#renew(slot, background));
    }
    return admitted;
  }

  /**
   * A background request (a gateway-run batch's line): one exchange of its own at background priority, which the
   * limiter answers with a lease of exactly this request or a refusal; held leases are never used for it.
   */
  async admitBackground(limiter: string, scopes: ScopeLimits[], demand: Demand, background: Background): Promise<AdmitResult> {
    const slot = this.#slot(limiter, scopes);
    const askedAt = this.#clock();
    const response = await this.#exchange(limiter, { scopes, first: { tokens: demand.tokens, usd: demand.usd }, want: NO_ROOM, priority: "background" }, background);
    if (!response.ok) return response;
    const lease = response.lease!;
    // Not observed as the slot's traffic: batch lines must not size the interactive requests' leases.
    const held: HeldLease = { id: lease.id, askedAt, expiresAt: askedAt + lease.ttlMs, ttlMs: lease.ttlMs, granted: lease, used: { requests: 1, tokens: demand.tokens, usd: demand.usd }, scopes: response.scopes, closed: false };
    this.#close(slot, held, background);
    return { ok: true, ticket: { limiter, lease: lease.id, tokens: demand.tokens, usd: demand.usd }, scopes: this.#statesAfter(held, askedAt) };
  }

  /** Admits through one exchange the request waits for; the lease it brings back (if larger) serves later requests. */
  async admitByExchange(limiter: string, scopes: ScopeLimits[], demand: Demand, background: Background): Promise<AdmitResult> {
    const slot = this.#slot(limiter, scopes);
    this.#observeSize(slot, demand);
    const askedAt = this.#clock();
    const asking = !slot.asking;
    if (asking) slot.asking = true;
    let response: ExchangeResponse;
    try {
      response = await this.#exchange(limiter, { scopes, first: { tokens: demand.tokens, usd: demand.usd }, want: asking ? this.#want(slot, askedAt) : NO_ROOM }, background);
      this.#observeLatency(slot, askedAt);
    } finally {
      if (asking) slot.asking = false;
    }
    if (!response.ok) return response;
    const lease = response.lease!;
    const held: HeldLease = { id: lease.id, askedAt, expiresAt: askedAt + lease.ttlMs, ttlMs: lease.ttlMs, granted: lease, used: { requests: 0, tokens: 0, usd: 0 }, scopes: response.scopes, closed: false };
    const admitted = this.#take(slot, held, demand, askedAt);
    this.#install(slot, held, background);
    return admitted;
  }

  /** A finished request's real tokens and cost: carried by the limiter's next exchange, or sent within REPORT_FLUSH_MS. */
  settle(ticket: AdmissionTicket, billed: { tokens: number; usd: number }, background: Background): void {
    const outbox = this.#outbox(ticket.limiter);
    const open = outbox.open.get(ticket.lease) ?? { lease: ticket.lease, tokensDelta: 0, usdReleased: 0, usdSpent: 0 };
    open.tokensDelta += Math.round(billed.tokens) - ticket.tokens;
    open.usdReleased += ticket.usd;
    open.usdSpent += billed.usd;
    outbox.open.set(ticket.lease, open);
    this.#scheduleFlush(ticket.limiter, background);
  }

  /** The leases held right now (diagnostics, tests). */
  held(): { limiter: string; lease: string; granted: HeldLease["granted"]; used: Units; expiresAt: number }[] {
    return [...this.#slots.values()].flatMap((slot) => (slot.active ? [{ limiter: slot.limiter, lease: slot.active.id, granted: slot.active.granted, used: { ...slot.active.used }, expiresAt: slot.active.expiresAt }] : []));
  }

  /** Closes leases past their expiry and sends every pending report now (graceful stops, tests). */
  async flush(): Promise<void> {
    const now = this.#clock();
    const pending: Promise<unknown>[] = [];
    const background: Background = (promise) => pending.push(promise);
    for (const slot of this.#slots.values()) if (slot.active && now >= slot.active.expiresAt) this.#close(slot, slot.active, background);
    for (const limiter of this.#outboxes.keys()) await this.#sendReports(limiter, background);
    await Promise.allSettled(pending);
  }

  /** Gives back every held lease's unused units now (a holder shutting down). */
  async release(): Promise<void> {
    const pending: Promise<unknown>[] = [];
    const background: Background = (promise) => pending.push(promise);
    for (const slot of this.#slots.values()) if (slot.active) this.#close(slot, slot.active, background);
    await this.flush();
    await Promise.allSettled(pending);
  }

  #slot(limiter: string, scopes: ScopeLimits[]): Slot {
    const known = this.#slotsByScopes.get(scopes);
    if (known && known.limiter === limiter) return known;
    const key = slotKey(limiter, scopes);
    let slot = this.#slots.get(key);
    if (slot) this.#slotsByScopes.set(scopes, slot);
    if (!slot) {
      slot = { limiter, scopes, active: undefined, asking: false, admitted: 0, markedAt: this.#clock(), rate: 0, avgTokens: undefined, avgUsd: undefined, latencyMs: 0 };
      this.#slots.set(key, slot);
      this.#slotsByScopes.set(scopes, slot);
    }
    return slot;
  }

  #outbox(limiter: string): Outbox {
    let outbox = this.#outboxes.get(limiter);
    if (!outbox) {
      outbox = { closed: [], numbered: [], open: new Map(), sending: false, flushScheduled: false, waitingSince: undefined };
      this.#outboxes.set(limiter, outbox);
    }
    return outbox;
  }

  #take(slot: Slot, lease: HeldLease, demand: Demand, now: number): Admitted {
    lease.used.requests += 1;
    lease.used.tokens += demand.tokens;
    lease.used.usd += demand.usd;
    slot.admitted++;
    this.#observeSize(slot, demand);
    return { ok: true, ticket: { limiter: slot.limiter, lease: lease.id, tokens: demand.tokens, usd: demand.usd }, scopes: this.#statesAfter(lease, now) };
  }

  #observeSize(slot: Slot, demand: Demand): void {
    slot.avgTokens = slot.avgTokens === undefined ? demand.tokens : slot.avgTokens + SMOOTHING * (demand.tokens - slot.avgTokens);
    slot.avgUsd = slot.avgUsd === undefined ? demand.usd : slot.avgUsd + SMOOTHING * (demand.usd - slot.avgUsd);
  }

  #observeLatency(slot: Slot, askedAt: number): void {
    slot.latencyMs += SMOOTHING * (Math.max(0, this.#clock() - askedAt) - slot.latencyMs);
  }

  /** Room for the requests the observed rate brings during the next lease (none before a rate was seen). */
  #want(slot: Slot, now: number): { requests: number; tokensPerRequest: number; usdPerRequest: number } {
    const elapsed = now - slot.markedAt;
    if (elapsed >= MIN_RATE_SAMPLE_MS) {
      const measured = slot.admitted / elapsed;
      slot.rate = slot.rate === 0 ? measured : slot.rate + SMOOTHING * (measured - slot.rate);
      slot.admitted = 0;
      slot.markedAt = now;
    }
    return { requests: Math.ceil(slot.rate * (slot.active?.ttlMs ?? 1_000) * RATE_HEADROOM), tokensPerRequest: Math.ceil(slot.avgTokens ?? 0), usdPerRequest: slot.avgUsd ?? 0 };
  }

  /** The limiter's view at grant time, adjusted for this lease's own unused units (they are this holder's to use). */
  #statesAfter(lease: HeldLease, now: number): ScopeState[] {
    const left = remaining(lease);
    const elapsed = Math.max(0, now - lease.askedAt);
    return lease.scopes.map((state) => ({
      scope: state.scope,
      ...(state.requests ? { requests: { ...state.requests, remaining: state.requests.remaining + (Number.isFinite(left.requests) ? left.requests : 0), resetMs: Math.max(0, state.requests.resetMs - elapsed) } } : {}),
      ...(state.tokens ? { tokens: { ...state.tokens, remaining: state.tokens.remaining + (Number.isFinite(left.tokens) ? left.tokens : 0), resetMs: Math.max(0, state.tokens.resetMs - elapsed) } } : {}),
      ...(state.budget ? { budget: { ...state.budget, reservedUsd: Math.max(0, state.budget.reservedUsd - (Number.isFinite(left.usd) ? left.usd : 0)) } } : {}),
    }));
  }

  /**
   * Makes a new lease the slot's active one, closing the one it replaces — unless the active one has more left,
   * then the new one is closed (given back) at once; so is a lease with nothing left in it.
   */
  #install(slot: Slot, lease: HeldLease, background: Background): void {
    const active = slot.active;
    if (remaining(lease).requests < 1 || (active && this.#clock() < active.expiresAt && remaining(active).requests >= remaining(lease).requests)) {
      this.#close(slot, lease, background);
      return;
    }
    if (active) this.#close(slot, active, background);
    slot.active = lease;
    if (this.#expiryTimers) {
      // The request that brought the lease closes it at expiry if nothing else did, so unused units come back
      // (with the next exchange, or on their own within REPORT_FLUSH_MS).
      background(
        new Promise((resolve) => setTimeout(resolve, Math.max(0, lease.expiresAt - this.#clock()))).then(() => {
          if (!lease.closed) this.#close(slot, lease, background);
        }),
      );
    }
  }

  #close(slot: Slot, lease: HeldLease, background: Background): void {
    if (lease.closed) return;
    lease.closed = true;
    if (slot.active === lease) slot.active = undefined;
    this.#outbox(slot.limiter).closed.push({ lease: lease.id, ...lease.used });
    this.#scheduleFlush(slot.limiter, background);
  }

  async #renew(slot: Slot, background: Background): Promise<void> {
    try {
      const askedAt = this.#clock();
      const response = await this.#exchange(slot.limiter, { scopes: slot.scopes, want: this.#want(slot, askedAt) }, background);
      this.#observeLatency(slot, askedAt);
      if (response.ok && response.lease) {
        const lease = response.lease;
        this.#install(slot, { id: lease.id, askedAt, expiresAt: askedAt + lease.ttlMs, ttlMs: lease.ttlMs, granted: lease, used: { requests: 0, tokens: 0, usd: 0 }, scopes: response.scopes, closed: false }, background);
      }
    } catch (error) {
      console.warn(JSON.stringify({ level: "warn", message: "lease renewal failed", limiter: slot.limiter, error: error instanceof Error ? error.message : String(error) }));
    } finally {
      slot.asking = false;
    }
  }

  /**
   * Makes sure waiting reports leave within REPORT_FLUSH_MS of the oldest one: if an exchange carried them in the
   * meantime (a renewal, usually), the timer finds only younger reports and waits for them instead.
   */
  #scheduleFlush(limiter: string, background: Background): void {
    const outbox = this.#outbox(limiter);
    // Real time, not the book's clock: flushing is about wall time even when tests drive lease time by hand.
    outbox.waitingSince ??= Date.now();
    if (outbox.flushScheduled) return;
    outbox.flushScheduled = true;
    const wait = (ms: number): Promise<void> =>
      new Promise((resolve) => setTimeout(resolve, ms)).then(() => {
        const since = outbox.waitingSince;
        if (since === undefined) {
          outbox.flushScheduled = false;
          return;
        }
        const left = since + this.#reportFlushMs - Date.now();
        if (left > 0) return wait(left);
        outbox.flushScheduled = false;
        return this.#sendReports(limiter, background);
      });
    background(wait(this.#reportFlushMs));
  }

  /** Sends waiting reports on their own, unless another exchange is carrying reports right now. */
  async #sendReports(limiter: string, background: Background): Promise<void> {
    const outbox = this.#outbox(limiter);
    if (outbox.sending || (outbox.closed.length === 0 && outbox.numbered.length === 0 && outbox.open.size === 0)) return;
    try {
      await this.#exchange(limiter, {}, background);
    } catch (error) {
      console.warn(JSON.stringify({ level: "warn", message: "lease report failed; it is sent again", limiter, error: error instanceof Error ? error.message : String(error) }));
      this.#scheduleFlush(limiter, background);
    }
  }

  /**
   * One exchange. Waiting reports ride along when no other report-carrying exchange to this limiter is out (so
   * reports arrive in order); if the exchange fails they go back to the outbox, numbered, to be sent again.
   */
  async #exchange(limiter: string, ask: { scopes?: ScopeLimits[]; first?: Demand; want?: { requests: number; tokensPerRequest: number; usdPerRequest: number }; priority?: "background" }, background: Background): Promise<ExchangeResponse> {
    const outbox = this.#outbox(limiter);
    let closed: LeaseClose[] = [];
    let settled: LeaseSettlement[] = [];
    const carries = !outbox.sending && (outbox.closed.length > 0 || outbox.numbered.length > 0 || outbox.open.size > 0);
    if (carries) {
      outbox.sending = true;
      closed = outbox.closed;
      outbox.closed = [];
      for (const open of outbox.open.values()) outbox.numbered.push({ ...open, seq: ++this.#batches });
      outbox.open.clear();
      settled = outbox.numbered;
      outbox.numbered = [];
      outbox.waitingSince = undefined;
    }
    try {
      const response = await this.#transport.exchange(limiter, {
        holder: this.holder,
        ...(ask.scopes && ask.want ? { ask: { scopes: ask.scopes, ...(ask.first ? { first: ask.first } : {}), want: ask.want, ...(ask.priority ? { priority: ask.priority } : {}) } } : {}),
        closed,
        settled,
        ...this.#now(),
      });
      return response;
    } catch (error) {
      if (carries) {
        outbox.closed.unshift(...closed);
        outbox.numbered.unshift(...settled);
        this.#scheduleFlush(limiter, background);
      }
      throw error;
    } finally {
      if (carries) outbox.sending = false;
    }
  }

  /** Injected clocks (tests) travel with the exchange so the limiter sees the same time; the real clock never does. */
  #now(): { now?: number } {
    return this.#clock === Date.now ? {} : { now: this.#clock() };
  }
}
