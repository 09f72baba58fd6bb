import { DurableObject } from "cloudflare:workers";
import { AUTH_THROTTLE_POLICY, throttleState, type ThrottleState } from "../src/policy/throttle-policy";

/** Bumped when the tables below change; `#ensureSchema` migrates from the stored version. */
const SCHEMA_VERSION = 1;

/**
 * Failed admin authentications of one client address on one surface (`admin|<address>`, `v1|<address>`): a
 * sliding window of failure times. The gateway records every failure here (the failing request waits for it) and
 * asks once whether an address is blocked when it first succeeds in an isolate; steady successful traffic never
 * calls it (src/policy/auth-throttle.ts). Its storage deletes itself once the window has emptied.
 */
export class AuthThrottle extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  /** `check` calls since this object started: lets a test see that steady successes do not come here. */
  #checks = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#ensureSchema();
  }

  #ensureSchema(): void {
    this.#sql.exec("CREATE TABLE IF NOT EXISTS at_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const row = this.#sql.exec<{ value: number }>("SELECT value FROM at_meta WHERE key = 'schema_version'").toArray()[0];
    if ((row?.value ?? 0) >= SCHEMA_VERSION) return;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS at_failures (at INTEGER NOT NULL)");
    this.#sql.exec("CREATE INDEX IF NOT EXISTS at_failures_at ON at_failures (at)");
    this.#sql.exec("INSERT INTO at_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", SCHEMA_VERSION);
  }

  /** Failure times inside the window, oldest first (older ones are deleted). */
  #failures(now: number): number[] {
    this.#sql.exec("DELETE FROM at_failures WHERE at <= ?", now - AUTH_THROTTLE_POLICY.windowMs);
    return this.#sql.exec<{ at: number }>("SELECT at FROM at_failures ORDER BY at").toArray().map((row) => row.at);
  }

  /** Records one failed authentication and returns the address's state, this failure included. */
  async recordFailure(): Promise<ThrottleState> {
    const now = Date.now();
    this.#sql.exec("INSERT INTO at_failures (at) VALUES (?)", now);
    // Nothing is kept longer than the window: an alarm clears the object after the newest failure has aged out.
    await this.ctx.storage.setAlarm(now + AUTH_THROTTLE_POLICY.windowMs + 1_000);
    return throttleState(this.#failures(now), now);
  }

  /** The address's state, without recording anything. */
  check(): ThrottleState {
    this.#checks++;
    const now = Date.now();
    return throttleState(this.#failures(now), now);
  }

  /** For tests and operators: failures in the window, and `check` calls since the object started. */
  describe(): { failures: number; checks: number } {
    return { failures: this.#failures(Date.now()).length, checks: this.#checks };
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const failures = this.#failures(now);
    if (failures.length === 0) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(failures[failures.length - 1]! + AUTH_THROTTLE_POLICY.windowMs + 1_000);
  }
}
