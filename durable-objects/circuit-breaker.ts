import { DurableObject } from "cloudflare:workers";
import * as z from "zod";
import { CLOSED, applyOutcome, type CircuitOutcome, type CircuitSnapshot } from "../src/routing/circuit";
import { CircuitBreakerSchema, type CircuitBreakerSettings } from "../src/routing/schema";

/** Bumped when the tables below change; `#ensureSchema` migrates from the stored version. */
const SCHEMA_VERSION = 1;

const OutcomesSchema = z.array(z.strictObject({ ok: z.boolean(), at: z.number().int().nonnegative(), latencyMs: z.number().nonnegative().optional() })).max(1_000);

type StateRow = { state: string; opened_at: number | null; consecutive_failures: number; last_failure_at: number | null; latency_ms: number | null };

/**
 * The health of one provider target (one per workspace, provider and model): consecutive failures, the failure
 * rate over a sliding window, the open / half-open / closed state (src/routing/circuit.ts) and the latency EWMA
 * the `latency` strategy ranks by. Callers pass the workspace's thresholds with every call, so a config change
 * applies without touching stored state. The gateway calls it only from `waitUntil`, never on the client's path.
 */
export class CircuitBreaker extends DurableObject<Env> {
  readonly #sql: SqlStorage;

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

  #window(now: number, settings: CircuitBreakerSettings): { requests: number; failures: number } {
    this.#sql.exec("DELETE FROM cb_outcomes WHERE at <= ?", now - settings.windowMs);
    const row = this.#sql.exec<{ requests: number; failures: number | null }>("SELECT COUNT(*) AS requests, SUM(1 - ok) AS failures FROM cb_outcomes").one();
    return { requests: row.requests, failures: row.failures ?? 0 };
  }

  #load(now: number, settings: CircuitBreakerSettings): CircuitSnapshot {
    const row = this.#sql.exec<StateRow>("SELECT state, opened_at, consecutive_failures, last_failure_at, latency_ms FROM cb_state WHERE id = 1").toArray()[0];
    const window = this.#window(now, settings);
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
    for (const outcome of parsedOutcomes) {
      this.#sql.exec("INSERT INTO cb_outcomes (at, ok) VALUES (?, ?)", outcome.at, outcome.ok ? 1 : 0);
      const next = applyOutcome(snapshot, outcome, this.#window(now, parsedSettings), parsedSettings);
      // A closing circuit forgets the failures that opened it, keeping only the success that closed it.
      if (next.closed) this.#sql.exec("DELETE FROM cb_outcomes WHERE NOT (at = ? AND ok = 1)", outcome.at);
      snapshot = next.snapshot;
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
  }
}
