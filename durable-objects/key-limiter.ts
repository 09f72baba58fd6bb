import { DurableObject } from "cloudflare:workers";
import * as z from "zod";
import { LeaseLedger, type LeaseRecord, type LedgerSnapshot } from "../src/limits/ledger";
import { ExchangeRequestSchema, type ExchangeResponse } from "../src/limits/protocol";
import { GatewayError } from "../src/lib/errors";

const SCHEMA_VERSION = 2;

const GrantSchema = z.object({ requests: z.number().nullable(), tokens: z.number().nullable(), usd: z.number().nullable() });
const LeaseRowSchema = z.object({
  id: z.string(),
  holder: z.string(),
  scopes: z.string().transform((text) => z.array(z.object({ scope: z.string(), periodKey: z.string().optional() })).parse(JSON.parse(text))),
  granted_at: z.number(),
  expires_at: z.number(),
  granted: z.string().transform((text) => GrantSchema.parse(JSON.parse(text))),
  used: z
    .string()
    .nullable()
    .transform((text) => (text === null ? null : z.object({ requests: z.number(), tokens: z.number(), usd: z.number() }).parse(JSON.parse(text)))),
  tokens_delta: z.number(),
  usd_released: z.number(),
  settled_seq: z.number(),
});

/** What the admin API and tests see of one scope. */
export type LimiterSnapshot = LedgerSnapshot & {
  /** Exchanges this instance has served since it started (the benchmark's limiter calls per 1,000 requests). */
  exchanges: number;
};

/**
 * Rate limits and budgets, one instance per key (`key:<keyId>`) or, when the workspace has limits of its own, one
 * per workspace (`ws:<workspaceId>`) holding the workspace's and each key's counters as separate scopes.
 *
 * It grants leases (src/limits/protocol.ts): a holder — an isolate's lease book, later a self-hosted node —
 * admits requests on its own from a lease until it expires, and reports what it admitted and what its requests
 * cost in later exchanges. `exchange` is synchronous (no await), so exchanges are applied strictly one after
 * another, and each one's changes are written to SQLite before its answer leaves (output gate): the counters in
 * memory (src/limits/ledger.ts) are rebuilt exactly from SQLite after a restart. Limits are not stored here:
 * each ask carries them (from the key record and the config), so a change applies to the next lease.
 */
export class KeyLimiter extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  #ledger: LeaseLedger;
  #exchanges = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#ledger = this.#load();
  }

  /** The schema, then the counters rebuilt from the checkpoints. */
  #load(): LeaseLedger {
    this.#ensureSchema();
    const sql = this.#sql;
    const leases = sql.exec(`SELECT * FROM kl_leases`).toArray().map((row) => leaseOf(LeaseRowSchema.parse(row)));
    return new LeaseLedger(
      {
        saveLease: (lease) =>
          sql.exec(
            `INSERT OR REPLACE INTO kl_leases (id, holder, scopes, granted_at, expires_at, granted, used, tokens_delta, usd_released, settled_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            lease.id,
            lease.holder,
            JSON.stringify(lease.scopes),
            lease.grantedAt,
            lease.expiresAt,
            JSON.stringify(lease.granted),
            lease.used === null ? null : JSON.stringify(lease.used),
            lease.tokensDelta,
            lease.usdReleased,
            lease.settledSeq,
          ),
        deleteLease: (id) => sql.exec(`DELETE FROM kl_leases WHERE id = ?`, id),
        loadSpend: (scope, periodKey) => sql.exec<{ usd: number }>(`SELECT usd FROM kl_spend WHERE scope = ? AND period_key = ?`, scope, periodKey).toArray()[0]?.usd ?? 0,
        saveSpend: (scope, periodKey, usd) =>
          sql.exec(`INSERT INTO kl_spend (scope, period_key, usd) VALUES (?, ?, ?) ON CONFLICT (scope, period_key) DO UPDATE SET usd = excluded.usd`, scope, periodKey, usd),
      },
      leases,
    );
  }

  #ensureSchema(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
    const row = this.#sql.exec<{ value: number }>(`SELECT value FROM kl_meta WHERE key = 'schema_version'`).toArray()[0];
    if (row && row.value >= SCHEMA_VERSION) return;
    this.#sql.exec(
      `CREATE TABLE IF NOT EXISTS kl_leases (id TEXT PRIMARY KEY, holder TEXT NOT NULL, scopes TEXT NOT NULL, granted_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, granted TEXT NOT NULL, used TEXT, tokens_delta INTEGER NOT NULL, usd_released REAL NOT NULL, settled_seq INTEGER NOT NULL)`,
    );
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS kl_spend (scope TEXT NOT NULL, period_key TEXT NOT NULL, usd REAL NOT NULL, PRIMARY KEY (scope, period_key))`);
    if (row && row.value === 1) this.#migrateFromRequestRows();
    this.#sql.exec(`INSERT INTO kl_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, SCHEMA_VERSION);
  }

  /**
   * Version 1 kept one row per admitted request (`kl_events`) and per reservation (`kl_reservations`). Each becomes
   * a closed lease of one request, so an upgraded object still counts every request and reservation it held.
   */
  #migrateFromRequestRows(): void {
    const byRequest = new Map<string, LeaseRecord>();
    const leaseFor = (requestId: string, at: number): LeaseRecord => {
      let lease = byRequest.get(requestId);
      if (!lease) {
        lease = { id: `v1-${requestId}`, holder: "v1", scopes: [], grantedAt: at, expiresAt: at, granted: { requests: 1, tokens: 0, usd: 0 }, used: { requests: 1, tokens: 0, usd: 0 }, tokensDelta: 0, usdReleased: 0, settledSeq: 0 };
        byRequest.set(requestId, lease);
      }
      return lease;
    };
    for (const row of this.#sql.exec<{ scope: string; request_id: string; at: number; tokens: number }>(`SELECT scope, request_id, at, tokens FROM kl_events`).toArray()) {
      const lease = leaseFor(row.request_id, row.at);
      lease.scopes.push({ scope: row.scope });
      lease.granted.tokens = lease.used!.tokens = Math.max(lease.used!.tokens, row.tokens);
    }
    for (const row of this.#sql.exec<{ scope: string; request_id: string; period_key: string; usd: number; at: number }>(`SELECT scope, request_id, period_key, usd, at FROM kl_reservations`).toArray()) {
      const lease = leaseFor(row.request_id, row.at);
      const existing = lease.scopes.find((s) => s.scope === row.scope);
      if (existing) existing.periodKey = row.period_key;
      else lease.scopes.push({ scope: row.scope, periodKey: row.period_key });
      lease.granted.usd = lease.used!.usd = Math.max(lease.used!.usd, row.usd);
    }
    for (const lease of byRequest.values()) {
      this.#sql.exec(
        `INSERT OR REPLACE INTO kl_leases (id, holder, scopes, granted_at, expires_at, granted, used, tokens_delta, usd_released, settled_seq) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0)`,
        lease.id,
        lease.holder,
        JSON.stringify(lease.scopes),
        lease.grantedAt,
        lease.expiresAt,
        JSON.stringify(lease.granted),
        JSON.stringify(lease.used),
      );
    }
    this.#sql.exec(`DROP TABLE IF EXISTS kl_events`);
    this.#sql.exec(`DROP TABLE IF EXISTS kl_reservations`);
  }

  /**
   * One exchange with a holder (the whole protocol: src/limits/protocol.ts): apply what it reports about earlier
   * leases (closed leases, settled requests), then answer its ask with a lease, nothing, or a refusal.
   */
  exchange(input: unknown): ExchangeResponse {
    const parsed = ExchangeRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new GatewayError({ status: 400, type: "invalid_request_error", code: "invalid_lease_exchange", message: `Invalid lease exchange: ${parsed.error.issues[0]?.message ?? "malformed"}.` });
    }
    this.#exchanges++;
    const request = parsed.data;
    return this.#ledger.exchange(request.holder, request, request.now ?? Date.now());
  }

  /** Drops everything this limiter holds (its key was revoked or its workspace deleted; ids are never reused). */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.#ledger = this.#load();
  }

  /** What the limiter holds for one scope right now (for the admin API, the benchmark and tests). */
  snapshot(scope: string, now: number = Date.now()): LimiterSnapshot {
    const spend = this.#sql
      .exec<{ period_key: string; usd: number }>(`SELECT period_key, usd FROM kl_spend WHERE scope = ? ORDER BY period_key`, scope)
      .toArray()
      .map((r) => ({ periodKey: r.period_key, usd: r.usd }));
    return { ...this.#ledger.snapshot(scope, now, spend), exchanges: this.#exchanges };
  }
}

function leaseOf(row: z.infer<typeof LeaseRowSchema>): LeaseRecord {
  return { id: row.id, holder: row.holder, scopes: row.scopes, grantedAt: row.granted_at, expiresAt: row.expires_at, granted: row.granted, used: row.used, tokensDelta: row.tokens_delta, usdReleased: row.usd_released, settledSeq: row.settled_seq };
}

