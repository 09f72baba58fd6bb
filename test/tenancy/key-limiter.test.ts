import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LeaseBook, type AdmitResult, type Demand } from "../../src/limits/lease-book";
import { HEADROOM_SHARE, RESERVATION_TTL_MS } from "../../src/limits/ledger";
import { RATE_WINDOW_MS, type ExchangeRequest, type ExchangeResponse, type ScopeLimits } from "../../src/limits/protocol";
import { DurableObjectLeaseTransport, type LeaseTransport } from "../../src/limits/transport";
import { emptyUsage } from "../../src/schema/internal";
import { estimateChatRequest } from "../../src/usage/estimate";
import { costOf, priceOf } from "../../src/usage/pricing";
import { countTokens } from "../simulators/scenarios";

const KEY = "key:k";
const T0 = Date.UTC(2026, 10, 27, 12);
const uniqueName = (name: string) => `test:${name}-${Math.random().toString(36).slice(2, 8)}`;
const NO_WANT = { requests: 0, tokensPerRequest: 0, usdPerRequest: 0 };

/** The limiter's one RPC, called directly with time injected (the protocol's `now`). */
const limiter = (name: string) => env.KEY_LIMITER.getByName(name);
const exchange = (stub: ReturnType<typeof limiter>, request: ExchangeRequest) => stub.exchange(request);
const askOne = (stub: ReturnType<typeof limiter>, limits: Omit<ScopeLimits, "scope">, call: { tokens?: number; usd?: number; now: number; holder?: string; priority?: "interactive" | "background" }) =>
  exchange(stub, {
    holder: call.holder ?? "h",
    ask: { scopes: [{ scope: KEY, ...limits }], first: { tokens: call.tokens ?? 0, usd: call.usd ?? 0 }, want: NO_WANT, ...(call.priority ? { priority: call.priority } : {}) },
    now: call.now,
  });

/** Reports a one-request lease as finished: closed with what it admitted, and settled at its real cost. */
async function finish(stub: ReturnType<typeof limiter>, lease: string, used: { tokens?: number; usd?: number }, real: { tokens?: number; usd?: number }, now: number, seq = 1) {
  await exchange(stub, {
    holder: "h",
    closed: [{ lease, requests: 1, tokens: used.tokens ?? 0, usd: used.usd ?? 0 }],
    settled: [{ lease, seq, tokensDelta: (real.tokens ?? 0) - (used.tokens ?? 0), usdReleased: used.usd ?? 0, usdSpent: real.usd ?? 0 }],
    now,
  });
}

const leaseOf = (result: Awaited<ReturnType<typeof askOne>>) => {
  if (!result.ok || !result.lease) throw new Error(`expected a lease, got ${JSON.stringify(result)}`);
  return result.lease.id;
};

describe("KeyLimiter: windows and periods (time injected through the exchange)", () => {
  it("a daily budget resets at the UTC day boundary, a monthly one at the month's", async () => {
    const stub = limiter(uniqueName("day"));
    const lateEvening = Date.UTC(2026, 10, 30, 23, 59, 0);
    const budget = { usd: 1, period: "day" as const };
    const a = leaseOf(await askOne(stub, { budget }, { usd: 0.6, now: lateEvening }));
    await finish(stub, a, { usd: 0.6 }, { usd: 0.6 }, lateEvening);
    expect(await askOne(stub, { budget }, { usd: 0.6, now: lateEvening + 1_000 })).toMatchObject({ ok: false, scope: KEY, reason: "budget", retryAfterMs: 59_000 });
    expect(await askOne(stub, { budget }, { usd: 0.6, now: Date.UTC(2026, 11, 1) })).toMatchObject({ ok: true, scopes: [{ budget: { periodKey: "d:2026-12-01", spentUsd: 0 } }] });

    const monthly = limiter(uniqueName("month"));
    const month = { usd: 1, period: "month" as const };
    const m = leaseOf(await askOne(monthly, { budget: month }, { usd: 0.9, now: Date.UTC(2026, 10, 3) }));
    await finish(monthly, m, { usd: 0.9 }, { usd: 0.9 }, Date.UTC(2026, 10, 3));
    expect(await askOne(monthly, { budget: month }, { usd: 0.2, now: Date.UTC(2026, 10, 29) })).toMatchObject({ ok: false, retryAfterMs: Date.UTC(2026, 11, 1) - Date.UTC(2026, 10, 29) });
    expect(await askOne(monthly, { budget: month }, { usd: 0.2, now: Date.UTC(2026, 11, 1, 0, 0, 1) })).toMatchObject({ ok: true });
    expect((await monthly.snapshot(KEY, Date.UTC(2026, 11, 1, 0, 0, 2))).spend).toEqual([{ periodKey: "m:2026-11", usd: 0.9 }]);
  });

  it("a total budget never resets; a key whose settled spend passed its budget is refused everything, free requests too", async () => {
    const stub = limiter(uniqueName("total"));
    const total = { usd: 1, period: "total" as const };
    const a = leaseOf(await askOne(stub, { budget: total }, { usd: 0.5, now: Date.UTC(2026, 0, 1) }));
    // The provider billed more than the reservation assumed: spend passes the budget.
    await finish(stub, a, { usd: 0.5 }, { usd: 1.2 }, Date.UTC(2026, 0, 1));
    expect(await askOne(stub, { budget: total }, { usd: 0, now: Date.UTC(2026, 0, 2) })).toMatchObject({ ok: false, reason: "budget", retryAfterMs: null });
    expect(await askOne(stub, { budget: total }, { usd: 0.02, now: Date.UTC(2030, 0, 1) })).toMatchObject({ ok: false, reason: "budget" });
  });

  it("the rpm window slides: a slot frees exactly 60 s after the request that held it", async () => {
    const stub = limiter(uniqueName("rpm"));
    expect(await askOne(stub, { rpm: 2 }, { now: T0 })).toMatchObject({ ok: true });
    expect(await askOne(stub, { rpm: 2 }, { now: T0 + 10_000 })).toMatchObject({ ok: true });
    expect(await askOne(stub, { rpm: 2 }, { now: T0 + 20_000 })).toMatchObject({ ok: false, reason: "requests", retryAfterMs: 40_000 });
    expect(await askOne(stub, { rpm: 2 }, { now: T0 + RATE_WINDOW_MS - 1 })).toMatchObject({ ok: false });
    expect(await askOne(stub, { rpm: 2 }, { now: T0 + RATE_WINDOW_MS })).toMatchObject({ ok: true, scopes: [{ requests: { remaining: 0 } }] });
  });

  it("background requests (batch lines) take only spare capacity: rpm, tokens and budget keep a reserve for interactive ones", async () => {
    const background = { priority: "background" as const };
    const tokens = limiter(uniqueName("background-tpm"));
    // tpm 1000: batch lines may fill the window to 1000 - 20% = 800 tokens.
    expect(await askOne(tokens, { tpm: 1_000 }, { tokens: 700, now: T0, ...background })).toMatchObject({ ok: true, lease: { requests: 1 } });
    expect(await askOne(tokens, { tpm: 1_000 }, { tokens: 150, now: T0 + 1, ...background })).toMatchObject({ ok: false, reason: "tokens", retryAfterMs: RATE_WINDOW_MS - 1 });
    expect(await askOne(tokens, { tpm: 1_000 }, { tokens: 250, now: T0 + 2 })).toMatchObject({ ok: true });
    // A line bigger than what batch lines may ever use can never run: no time to come back.
    expect(await askOne(tokens, { tpm: 1_000 }, { tokens: 900, now: T0 + RATE_WINDOW_MS * 2, ...background })).toMatchObject({ ok: false, reason: "tokens", retryAfterMs: null });

    const requests = limiter(uniqueName("background-rpm"));
    for (let i = 0; i < 4; i++) expect(await askOne(requests, { rpm: 5 }, { now: T0 + i, ...background })).toMatchObject({ ok: true });
    expect(await askOne(requests, { rpm: 5 }, { now: T0 + 4, ...background })).toMatchObject({ ok: false, reason: "requests" });
    expect(await askOne(requests, { rpm: 5 }, { now: T0 + 5 })).toMatchObject({ ok: true });

    const budget = limiter(uniqueName("background-budget"));
    const daily = { budget: { usd: 1, period: "day" as const } };
    expect(await askOne(budget, daily, { usd: 0.7, now: T0, ...background })).toMatchObject({ ok: true });
    expect(await askOne(budget, daily, { usd: 0.2, now: T0 + 1, ...background })).toMatchObject({ ok: false, reason: "budget" });
    expect(await askOne(budget, daily, { usd: 0.2, now: T0 + 2 })).toMatchObject({ ok: true });
  });

  it("a refusal on one limit records nothing on the others", async () => {
    const stub = limiter(uniqueName("atomic"));
    const limits = { rpm: 10, tpm: 100, budget: { usd: 1, period: "day" as const } };
    expect(await askOne(stub, limits, { tokens: 90, usd: 0.1, now: T0 })).toMatchObject({ ok: true });
    expect(await askOne(stub, limits, { tokens: 20, usd: 0.1, now: T0 + 1 })).toMatchObject({ ok: false, reason: "tokens" });
    expect(await stub.snapshot(KEY, T0 + 2)).toMatchObject({ requestsInWindow: 1, tokensInWindow: 90, reservations: 1 });
  });

  it("key and workspace scopes are checked together: the workspace's limit binds across keys", async () => {
    const stub = limiter(uniqueName("scopes"));
    const workspace: ScopeLimits = { scope: "workspace", rpm: 3 };
    const call = (key: string, at: number) => exchange(stub, { holder: "h", ask: { scopes: [{ scope: `key:${key}`, rpm: 2 }, workspace], first: { tokens: 0, usd: 0 }, want: NO_WANT }, now: at });
    expect(await call("a", T0)).toMatchObject({ ok: true });
    expect(await call("a", T0 + 1)).toMatchObject({ ok: true });
    expect(await call("a", T0 + 2)).toMatchObject({ ok: false, scope: "key:a", reason: "requests" });
    expect(await call("b", T0 + 3)).toMatchObject({ ok: true });
    expect(await call("b", T0 + 4)).toMatchObject({ ok: false, scope: "workspace", reason: "requests" });
    expect(await stub.snapshot("key:b", T0 + 5)).toMatchObject({ requestsInWindow: 1 });
    expect(await stub.snapshot("workspace", T0 + 5)).toMatchObject({ requestsInWindow: 3 });
  });

  it("a reservation never settled (its holder died) is released after its TTL", async () => {
    const stub = limiter(uniqueName("stale"));
    const budget = { usd: 1, period: "day" as const };
    await askOne(stub, { budget }, { usd: 1, now: T0 });
    expect(await askOne(stub, { budget }, { usd: 0.5, now: T0 + 1_000 })).toMatchObject({ ok: false });
    expect(await askOne(stub, { budget }, { usd: 0.5, now: T0 + RESERVATION_TTL_MS + 1 })).toMatchObject({ ok: true });
  });

  it("a settlement batch sent twice (its first exchange failed after landing) counts once; only a lease's holder reports on it", async () => {
    const stub = limiter(uniqueName("once"));
    const budget = { usd: 10, period: "day" as const };
    const a = leaseOf(await askOne(stub, { budget }, { usd: 1, now: T0 }));
    await finish(stub, a, { usd: 1 }, { usd: 0.4 }, T0 + 1);
    await finish(stub, a, { usd: 1 }, { usd: 0.4 }, T0 + 2);
    await exchange(stub, { holder: "intruder", settled: [{ lease: a, seq: 9, tokensDelta: 0, usdReleased: 0, usdSpent: 5 }], now: T0 + 3 });
    expect(await stub.snapshot(KEY, T0 + 4)).toMatchObject({ reservations: 0, spend: [{ periodKey: "d:2026-11-27", usd: 0.4 }] });
  });
});

/**
 * An independent limiter client, standing in for an isolate or a self-hosted node: its own lease book and holder
 * id, admitting exactly as the gateway does (src/policy/limits.ts), against the same Durable Object as the others.
 */
class Client {
  readonly book: LeaseBook;
  readonly #background: Promise<unknown>[] = [];
  readonly #clock: () => number;
  /** When each of its requests was admitted. */
  readonly times: number[] = [];

  constructor(holder: string, clock: () => number) {
    this.#clock = clock;
    this.book = new LeaseBook(new DurableObjectLeaseTransport(env.KEY_LIMITER), { holder, clock, expiryTimers: false, reportFlushMs: 0 });
  }

  get admitted(): number {
    return this.times.length;
  }

  readonly #bg = (promise: Promise<unknown>) => void this.#background.push(promise);

  async admit(name: string, scopes: ScopeLimits[], demand: Demand): Promise<AdmitResult> {
    const at = this.#clock();
    const result = this.book.admitHeld(name, scopes, demand, this.#bg) ?? (await this.book.admitByExchange(name, scopes, demand, this.#bg));
    if (result.ok) this.times.push(at);
    return result;
  }

  /** `count` concurrent requests; the admitted ones settle at `billed` (tokens and USD) once all have been decided. */
  async burst(name: string, scopes: ScopeLimits[], demand: Demand, count: number, billed?: { tokens: number; usd: number }): Promise<number> {
    const results = await Promise.all(Array.from({ length: count }, () => this.admit(name, scopes, demand)));
    const admitted = results.filter((r) => r.ok);
    for (const result of admitted) this.book.settle(result.ticket, billed ?? { tokens: demand.tokens, usd: demand.usd }, this.#bg);
    return admitted.length;
  }

  /** Waits for the background work (renewals, reports) and gives back leases that expired: what its timers do in production. */
  async idle(): Promise<void> {
    while (this.#background.length > 0) await Promise.allSettled(this.#background.splice(0));
    await this.book.flush();
  }
}

/** Admission times of every client, checked against the window: at most `limit` in any RATE_WINDOW_MS. */
function maxInAnyWindow(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! + RATE_WINDOW_MS <= sorted[i]!) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe("leased admission across independent clients (isolates or nodes) sharing one limiter", () => {
  it("rpm N: never more than N in any window; under excess demand at least N minus one per client, as a quiet client's unused lease comes back", async () => {
    const N = 100;
    const name = uniqueName("rpm-leases");
    const scopes: ScopeLimits[] = [{ scope: KEY, rpm: N }];
    let now = T0;
    const clients = [1, 2, 3].map((i) => new Client(`node:${i}`, () => now));
    const unused = () => clients[0]!.book.held().reduce((sum, lease) => sum + (lease.granted.requests ?? 0) - lease.used.requests, 0);
    // Client 1 is busy until it holds a lease with units to spare, then goes quiet (alive: its lease expires and
    // is given back). Clients 2 and 3 always ask for more than the limit allows. 125 s of clock: a round every
    // 500 ms while client 1 is busy, every second after.
    let quietAt: number | undefined;
    let unusedWhenQuiet = 0;
    for (let round = 0; now < T0 + 125_000; round++) {
      now += quietAt === undefined ? 500 : 1_000;
      if (quietAt === undefined && unused() >= 4) {
        quietAt = round;
        unusedWhenQuiet = unused();
      }
      await Promise.all(clients.map((client, i) => (i === 0 ? (quietAt === undefined ? client.burst(name, scopes, { tokens: 0, usd: 0 }, 10) : 0) : client.burst(name, scopes, { tokens: 0, usd: 0 }, 3))));
      await Promise.all(clients.map((client) => client.idle()));
    }
    // The lease had grown with client 1's rate (it admitted more requests than it made exchanges)...
    expect(unusedWhenQuiet).toBeGreaterThanOrEqual(4);
    const times = clients.flatMap((client) => client.times);
    // ...yet no window ever held more than N,
    expect(maxInAnyWindow(times)).toBeLessThanOrEqual(N);
    // and the first window still admitted at least N minus one per client: the quiet client's spare units came back.
    const inWindow = (from: number) => times.filter((t) => t >= from && t < from + RATE_WINDOW_MS).length;
    expect(inWindow(T0)).toBeGreaterThanOrEqual(N - clients.length);
    // Clients 2 and 3 alone carry the next window: again at least N minus one per client.
    expect(inWindow(T0 + RATE_WINDOW_MS)).toBeGreaterThanOrEqual(N - clients.length);
  }, 60_000);

  it("a workspace limit leases the same way: clients of three different keys share its rpm, leases larger than one request", async () => {
    const N = 60;
    const name = uniqueName("ws-leases");
    let now = T0;
    const clients = ["a", "b", "c"].map((key) => ({ key, client: new Client(`node:${key}`, () => now) }));
    const scopesOf = (key: string): ScopeLimits[] => [{ scope: `key:${key}`, rpm: 10_000 }, { scope: "workspace", rpm: N }];
    let largestLease = 0;
    for (let round = 0; now < T0 + 125_000; round++) {
      now = T0 + round * 500;
      await Promise.all(clients.map(({ key, client }) => client.burst(name, scopesOf(key), { tokens: 0, usd: 0 }, 3)));
      for (const { client } of clients) for (const lease of client.book.held()) largestLease = Math.max(largestLease, lease.granted.requests ?? 0);
      await Promise.all(clients.map(({ client }) => client.idle()));
    }
    const times = clients.flatMap(({ client }) => client.times);
    expect(largestLease).toBeGreaterThan(1);
    expect(maxInAnyWindow(times)).toBeLessThanOrEqual(N);
    const inWindow = (from: number) => times.filter((t) => t >= from && t < from + RATE_WINDOW_MS).length;
    expect(inWindow(T0)).toBeGreaterThanOrEqual(N - clients.length);
    expect(inWindow(T0 + RATE_WINDOW_MS)).toBeGreaterThanOrEqual(N - clients.length);
    const workspace = await limiter(name).snapshot("workspace", now);
    expect(workspace.requestsInWindow).toBeLessThanOrEqual(N);
  }, 60_000);

  it("a budget across clients: settled spend stays within the budget plus one request's maximum cost — ASCII and CJK prompts alike", async () => {
    const price = priceOf("openai", "gpt-4o-mini")!;
    for (const prompt of ["Please summarise the attached quarterly report. ".repeat(60), "请总结一下这份季度报告的要点。".repeat(200)]) {
      const name = uniqueName("budget-leases");
      const estimate = estimateChatRequest({ messages: [{ role: "user", content: [{ type: "text", text: prompt }] }], maxTokens: 10 });
      const maxCost = costOf({ ...emptyUsage(), promptTokens: estimate.promptTokens, completionTokens: 10 }, price)!;
      // What the provider bills: its own tokenizer (the simulators': 1.5 tokens per CJK character), 10 tokens out.
      const billedTokens = countTokens(prompt) + 10;
      const billed = { tokens: billedTokens, usd: costOf({ ...emptyUsage(), promptTokens: countTokens(prompt), completionTokens: 10 }, price)! };
      expect(billed.usd).toBeLessThanOrEqual(maxCost);
      const budgetUsd = 0.02;
      const scopes: ScopeLimits[] = [{ scope: KEY, budget: { usd: budgetUsd, period: "month" } }];
      let now = T0;
      const clients = [1, 2, 3].map((i) => new Client(`node:${i}`, () => now));
      let refusedRounds = 0;
      for (let round = 0; refusedRounds < 3 && round < 400; round++) {
        now = T0 + round * 100;
        const admitted = await Promise.all(clients.map((client) => client.burst(name, scopes, { tokens: estimate.promptTokens + 10, usd: maxCost }, 4, billed)));
        refusedRounds = admitted.every((n) => n === 0) ? refusedRounds + 1 : 0;
        await Promise.all(clients.map((client) => client.idle()));
      }
      const snapshot = await limiter(name).snapshot(KEY, now);
      const spent = snapshot.spend[0]!.usd;
      const admitted = clients.reduce((sum, client) => sum + client.admitted, 0);
      expect(spent).toBeCloseTo(admitted * billed.usd, 12);
      expect(spent).toBeLessThanOrEqual(budgetUsd + maxCost);
      // Refusals came from the budget running out, not from leases stranded somewhere.
      expect(spent).toBeGreaterThan(budgetUsd - 2 * maxCost);
      expect(snapshot.reservations).toBe(0);
    }
  }, 60_000);

  it("a client that vanishes holding a lease strands at most that lease, until its window passes", async () => {
    const N = 40;
    const name = uniqueName("vanish");
    const scopes: ScopeLimits[] = [{ scope: KEY, rpm: N }];
    let now = T0;
    const vanishing = new Client("node:vanishing", () => now);
    const others = [new Client("node:b", () => now), new Client("node:c", () => now)];
    // The vanishing client is busy long enough to hold a lease of several requests, then disappears: no reports,
    // no flush, nothing.
    for (let round = 0; round < 8 && !vanishing.book.held().some((l) => (l.granted.requests ?? 0) - l.used.requests >= 3); round++) {
      now = T0 + round * 100;
      await vanishing.burst(name, scopes, { tokens: 0, usd: 0 }, 3);
      await vanishing.idle();
    }
    const stranded = vanishing.book.held()[0]!;
    const strandedUnits = (stranded.granted.requests ?? 0) - stranded.used.requests;
    expect(strandedUnits).toBeGreaterThanOrEqual(3);
    const start = T0 + 1_000;
    for (let round = 0; round * 500 < 130_000; round++) {
      now = start + round * 500;
      await Promise.all(others.map((client) => client.burst(name, scopes, { tokens: 0, usd: 0 }, 2)));
      await Promise.all(others.map((client) => client.idle()));
    }
    const times = [...vanishing.times, ...others.flatMap((client) => client.times)];
    expect(maxInAnyWindow(times)).toBeLessThanOrEqual(N);
    // While its lease counts (until 60 s after it expired) the others get the rest, and only the stranded units are lost...
    const othersIn = (from: number) => others.flatMap((client) => client.times).filter((t) => t >= from && t < from + RATE_WINDOW_MS).length;
    expect(othersIn(start) + vanishing.admitted).toBeGreaterThanOrEqual(N - strandedUnits - others.length);
    // ...and once it has passed, whole windows again.
    expect(othersIn(stranded.expiresAt + RATE_WINDOW_MS)).toBeGreaterThanOrEqual(N - others.length);
  }, 60_000);

  it("the object restarting mid-window rebuilds its counters from SQLite: it admits no more after the restart than before", async () => {
    const N = 30;
    const name = uniqueName("restart");
    const budget = { usd: 1, period: "day" as const };
    const scopes: ScopeLimits[] = [{ scope: KEY, rpm: N, tpm: 10_000, budget }];
    let now = T0;
    const clients = [1, 2, 3].map((i) => new Client(`node:${i}`, () => now));
    const demand = { tokens: 100, usd: 0.01 };
    let admittedBefore = 0;
    for (let round = 0; round < 3; round++) {
      now = T0 + round * 100;
      admittedBefore += (await Promise.all(clients.map((client) => client.burst(name, scopes, demand, 2, { tokens: 60, usd: 0.005 })))).reduce((a, b) => a + b, 0);
      await Promise.all(clients.map((client) => client.idle()));
    }
    // One client takes a lease it has not finished using when the object goes away.
    now += 100;
    admittedBefore += await clients[0]!.burst(name, scopes, demand, 4);
    await clients[0]!.idle();
    const stub = limiter(name);
    const before = await stub.snapshot(KEY, now);
    expect(before.requestsInWindow).toBeGreaterThan(0);
    await evictDurableObject(stub);
    const after = await limiter(name).snapshot(KEY, now);
    expect(after).toMatchObject({ requestsInWindow: before.requestsInWindow, tokensInWindow: before.tokensInWindow, reservations: before.reservations, spend: before.spend, exchanges: 0 });
    expect(after.reservedUsd).toBeCloseTo(before.reservedUsd, 12);
    // Traffic continues across the restart (held leases stay valid; reports land in the rebuilt object).
    let admittedAfter = 0;
    for (let round = 0; round < 40; round++) {
      now = T0 + 2_000 + round * 250;
      admittedAfter += (await Promise.all(clients.map((client) => client.burst(name, scopes, demand, 3)))).reduce((a, b) => a + b, 0);
      await Promise.all(clients.map((client) => client.idle()));
    }
    expect(maxInAnyWindow(clients.flatMap((client) => client.times))).toBeLessThanOrEqual(N);
    expect(admittedBefore + admittedAfter).toBeGreaterThanOrEqual(N - clients.length);
    const settled = await limiter(name).snapshot(KEY, now);
    expect(settled.spend[0]!.usd).toBeGreaterThan(before.spend[0]!.usd);
  });
});

/** The Durable Object transport, counting exchanges and keeping the ones in flight (so a test can wait for renewals). */
class CountingTransport implements LeaseTransport {
  readonly #inner = new DurableObjectLeaseTransport(env.KEY_LIMITER);
  readonly inFlight = new Set<Promise<unknown>>();
  exchanges = 0;

  exchange(limiter: string, request: ExchangeRequest): Promise<ExchangeResponse> {
    this.exchanges++;
    const promise = this.#inner.exchange(limiter, request);
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  /** Waits until no exchange is out, then one macrotask, so the continuations that install leases have run. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

describe("lease sizing and the steady state", () => {
  it("a lease follows the holder's observed rate while there is headroom, and shrinks to the one waiting request near a limit", async () => {
    const stub = limiter(uniqueName("sizing"));
    const ask = (limits: Omit<ScopeLimits, "scope">, want: number, now: number, first = { tokens: 10, usd: 0.001 }) =>
      exchange(stub, { holder: "h", ask: { scopes: [{ scope: KEY, ...limits }], first, want: { requests: want, tokensPerRequest: 10, usdPerRequest: 0.001 } }, now });
    const limits = { rpm: 100, tpm: 100_000, budget: { usd: 100, period: "day" as const } };
    // Far from every limit: the waiting request plus the room asked for.
    expect(await ask(limits, 20, T0)).toMatchObject({ ok: true, lease: { requests: 21, tokens: 210, usd: 0.021 } });
    // rpm: 79 left, a quarter of what is left beyond the waiting request at most.
    expect(await ask(limits, 50, T0 + 1)).toMatchObject({ ok: true, lease: { requests: 1 + Math.floor(78 / HEADROOM_SHARE) } });
    // 41 counted; 56 more single requests leave 3: near the rpm limit, only the waiting request.
    for (let i = 0; i < 56; i++) await ask(limits, 0, T0 + 2 + i);
    const nearRpm = await ask(limits, 50, T0 + 100);
    expect(nearRpm).toMatchObject({ ok: true, lease: { requests: 1, tokens: 10, usd: 0.001 } });
    // Near the tpm and the budget limits too, each on its own.
    const tight = limiter(uniqueName("sizing-tight"));
    const askTight = (l: Omit<ScopeLimits, "scope">, now: number) => exchange(tight, { holder: "h", ask: { scopes: [{ scope: `key:${now}`, ...l }], first: { tokens: 10, usd: 0.001 }, want: { requests: 50, tokensPerRequest: 10, usdPerRequest: 0.001 } }, now: T0 });
    expect(await askTight({ tpm: 40 }, 1)).toMatchObject({ ok: true, lease: { requests: 1, tokens: 10 } });
    expect(await askTight({ budget: { usd: 0.004, period: "day" } }, 2)).toMatchObject({ ok: true, lease: { requests: 1, usd: 0.001 } });
    // With room, a tpm-only lease carries the tokens of its share of requests (no request count: none is limited).
    expect(await askTight({ tpm: 1_000 }, 3)).toMatchObject({ ok: true, lease: { requests: null, tokens: 10 + Math.floor(990 / (HEADROOM_SHARE * 10)) * 10 } });
  });

  it("in the steady state no request waits on the limiter, and it is asked at most 20 times per 1,000 requests", async () => {
    const name = uniqueName("steady");
    const scopes: ScopeLimits[] = [{ scope: KEY, rpm: 1_000_000, tpm: 100_000_000, budget: { usd: 1_000, period: "day" } }];
    let now = T0;
    const transport = new CountingTransport();
    const background: Promise<unknown>[] = [];
    const book = new LeaseBook(transport, { holder: "isolate:steady", clock: () => now, expiryTimers: false });
    const demand = { tokens: 120, usd: 0.0001 };
    let waited = 0;
    let admitted = 0;
    let exchangesAtWarm = 0;
    let waitedAtWarm = 0;
    let admittedAtWarm = 0;
    // 200 requests a second of lease time (20 every 100 ms) for 30 s; the first 2 s warm up.
    for (let round = 0; round < 300; round++) {
      now = T0 + round * 100;
      if (round === 20) [exchangesAtWarm, waitedAtWarm, admittedAtWarm] = [transport.exchanges, waited, admitted];
      const results = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const held = book.admitHeld(name, scopes, demand, (p) => void background.push(p));
          if (held) return held;
          waited++;
          return book.admitByExchange(name, scopes, demand, (p) => void background.push(p));
        }),
      );
      for (const result of results) {
        if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
        admitted++;
        book.settle(result.ticket, { tokens: 100, usd: 0.00008 }, (p) => void background.push(p));
      }
      await transport.settled();
    }
    const steadyRequests = admitted - admittedAtWarm;
    const steadyExchanges = transport.exchanges - exchangesAtWarm;
    expect(steadyRequests).toBe(5_600);
    expect(waited - waitedAtWarm).toBe(0);
    expect((steadyExchanges * 1_000) / steadyRequests).toBeLessThanOrEqual(20);
    // Every admitted request and its cost reached the limiter (writes per exchange, not per request).
    await book.release();
    await Promise.allSettled(background);
    const snapshot = await limiter(name).snapshot(KEY, now);
    expect(snapshot.exchanges).toBe(transport.exchanges);
    expect(snapshot.requestsInWindow).toBeLessThanOrEqual(admitted);
    expect(snapshot.spend[0]!.usd).toBeCloseTo(admitted * 0.00008, 9);
    expect(snapshot.reservations).toBe(0);
  }, 60_000);
});
