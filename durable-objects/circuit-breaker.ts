import { DurableObject } from "cloudflare:workers";
import * as z from "zod";
import { CLOSED, applyOutcome, type CircuitOutcome, type CircuitSnapshot } from "../src/routing/circuit";
import { CircuitBreakerSchema, type CircuitBreakerSettings } from "../src/routing/schema";

/** Bumped when the tables below change; `#ensureSchema` migrates from the stored version. */
const SCHEMA_VERSION = 1;

const OutcomesSchema = z.array(z.strictObject({ ok: z.boolean(), at: z.number().int().nonnegative(), latencyMs: z.number().nonnegative().optional() })).max(1_000);

type StateRow = { state: string; opened_at: number | null; consecutive_failures: number; last_failure_at: number | null; latency_ms: number | null };

/** Outcomes per INSERT statement (two bound values each; within SQLite's and D1's parameter limits). */
const INSERT_CHUNK = 50;

/**
 * The window's outcomes in memory, oldest first, with running counts: reading the window is O(1) instead of a
 * COUNT over every row of it for each outcome (at a few thousand requests a second, that scan was most of the
 * object's CPU). SQLite stays the record and rebuilds it after a restart.
 */
class OutcomeWindow {
  #at: number[] = [];
  #ok: boolean[] = [];
  #head = 0;
  failures = 0;

  get requests(): number {
    return this.#at.length - this.#head;
  }

  add(at: number, ok: boolean): void {
    // Outcomes arrive in time order from one isolate; keep the order exact when several isolates interleave.
    let index = this.#at.length;
    while (index > this.#head && this.#at[index - 1]! > at) index--;
    this.#at.splice(index, 0, at);
    this.#ok.splice(index, 0, ok);
    if (!ok) this.failures++;
  }

  evictUpTo(cutoff: number): void {
    while (this.#head < this.#at.length && this.#at[this.#head]! <= cutoff) {
      if (!this.#ok[this.#head]) this.failures--;
      this.#head++;
    }
    if (this.#head > 1_024 && this.#head * 2 > this.#at.length) {
      this.#at = this.#at.slice(this.#head);
      this.#ok = this.#ok.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Keeps only the successes at `at` (a closing circuit forgets the failures that opened it). */
  keepSuccessesAt(at: number): void {
    const kept = this.#at.slice(this.#head).filter((time, i) => time === at && this.#ok[this.#head + i]);
    this.#at = kept;
    this.#ok = kept.map(() => true);
    this.#head = 0;
    this.failures = 0;
  }

  *entries(): Generator<[number, boolean]> {
    for (let i = this.#head; i < this.#at.length; i++) yield [this.#at[i]!, this.#ok[i]!];
  }
}

/**
 * The health of one provider target (one per workspace, provider and model): consecutive failures, the failure
 * rate over a sliding window, the open / half-open / closed state (src/routing/circuit.ts) and the latency EWMA
 * the `latency` strategy ranks by. Callers pass the workspace's thresholds with every call, so a config change
 * applies without touching stored state. The gateway calls it only from `waitUntil`, never on the client's path.
 */
export class CircuitBreaker extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  #outcomes: OutcomeWindow | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#ensureSchema();
  }

  #ensureSchema(): void {
    this.#sql.exec("CREATE TABLE IF NOT EXISTS cb_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const row = this.#sql.exec<{ value: number }>("SELECT value FROM cb_meta WHERE key = 'schema_version'").toArray()[0];
    if ((row?.value ?? 0) >= SCHEMA_VERSION) return;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS cb_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      state TEXT NOT NULL,
      opened_at INTEGER,
      consecutive_failures INTEGER NOT NULL,
      last_failure_at INTEGER,
      latency_ms REAL
    )`);
    this.#sql.exec("CREATE TABLE IF NOT EXISTS cb_outcomes (at INTEGER NOT NULL, ok INTEGER NOT NULL)");
    this.#sql.exec("CREATE INDEX IF NOT EXISTS cb_outcomes_at ON cb_outcomes (at)");
    this.#sql.exec("INSERT INTO cb_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", SCHEMA_VERSION);
  }

  /** The outcomes inside the window at `now` (loaded from SQLite once per instance). */
  #window(now: number, settings: CircuitBreakerSettings): OutcomeWindow {
    const cutoff = now - settings.windowMs;
    if (!this.#outcomes) {
      this.#outcomes = new OutcomeWindow();
      for (const row of this.#sql.exec<{ at: number; ok: number }>("SELECT at, ok FROM cb_outcomes WHERE at > ? ORDER BY at", cutoff).toArray()) this.#outcomes.add(row.at, row.ok === 1);
    }
    this.#outcomes.evictUpTo(cutoff);
    return this.#outcomes;
  }

  #load(now: number, settings: CircuitBreakerSettings): CircuitSnapshot {
    const row = this.#sql.exec<StateRow>("SELECT state, opened_at, consecutive_failures, last_failure_at, latency_ms FROM cb_state WHERE id = 1").toArray()[0];
    const window = this.#window(now, settings);
    this.#sql.exec("DELETE FROM cb_outcomes WHERE at <= ?", now - settings.windowMs);
    if (!row) return { ...CLOSED, windowRequests: window.requests, windowFailures: window.failures };
    return {
      state: row.state === "open" ? "open" : "closed",
      openedAt: row.opened_at,
      consecutiveFailures: row.consecutive_failures,
      lastFailureAt: row.last_failure_at,
      latencyMs: row.latency_ms,
      windowRequests: window.requests,
      windowFailures: window.failures,
    };
  }

  #store(snapshot: CircuitSnapshot): void {
    this.#sql.exec(
      `INSERT INTO cb_state (id, state, opened_at, consecutive_failures, last_failure_at, latency_ms) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, opened_at = excluded.opened_at, consecutive_failures = excluded.consecutive_failures,
         last_failure_at = excluded.last_failure_at, latency_ms = excluded.latency_ms`,
      snapshot.state,
      snapshot.openedAt,
      snapshot.consecutiveFailures,
      snapshot.lastFailureAt,
      snapshot.latencyMs,
    );
  }

  /** Records attempt outcomes (in the order they happened) and returns the resulting snapshot. */
  record(outcomes: CircuitOutcome[], settings: CircuitBreakerSettings): CircuitSnapshot {
    const parsedOutcomes = OutcomesSchema.parse(outcomes);
    const parsedSettings = CircuitBreakerSchema.parse(settings);
    const now = Date.now();
    let snapshot = this.#load(now, parsedSettings);
    const window = this.#window(now, parsedSettings);
    let rewritten = false;
    for (const outcome of parsedOutcomes) {
      window.add(outcome.at, outcome.ok);
      window.evictUpTo(now - parsedSettings.windowMs);
      const next = applyOutcome(snapshot, outcome, { requests: window.requests, failures: window.failures }, parsedSettings);
      // A closing circuit forgets the failures that opened it, keeping only the success that closed it.
      if (next.closed) {
        window.keepSuccessesAt(outcome.at);
        rewritten = true;
      }
      snapshot = next.snapshot;
    }
    // The window's rows as one batch of statements: appended, or rewritten after a close.
    if (rewritten) this.#sql.exec("DELETE FROM cb_outcomes");
    const rows = rewritten ? [...window.entries()] : parsedOutcomes.filter((o) => o.at > now - parsedSettings.windowMs).map((o): [number, boolean] => [o.at, o.ok]);
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      this.#sql.exec(`INSERT INTO cb_outcomes (at, ok) VALUES ${chunk.map(() => "(?, ?)").join(", ")}`, ...chunk.flatMap(([at, ok]) => [at, ok ? 1 : 0]));
    }
    this.#store(snapshot);
    return snapshot;
  }

  /** The current snapshot (state as stored; open reads as half-open after the cool-down, see circuitStateAt). */
  snapshot(settings: CircuitBreakerSettings): CircuitSnapshot {
    return this.#load(Date.now(), CircuitBreakerSchema.parse(settings));
  }

  /** Forgets everything: closed, no history. For operators and tests. */
  reset(): void {
    this.#sql.exec("DELETE FROM cb_outcomes");
    this.#sql.exec("DELETE FROM cb_state");
    this.#outcomes = undefined;
  }
}
