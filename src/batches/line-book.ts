import * as z from "zod";
import type { UnprocessedReason } from "./results";

/**
 * The lines of one gateway-run batch, kept in its BatchDriver's SQLite storage (durable-objects/batch-driver.ts):
 * where each line sits in the input file, whether its message is out, who runs it (a claim), and — once — its
 * result. Every method is synchronous SQL with no await in between, so the object applies claims and results
 * one at a time: a line is claimed by one delivery at a time and its result is written once, whatever the Queue
 * delivers twice. docs/storage.md lists the tables.
 *
 *   queued ──claim──► running ──record──► done
 *     ▲                  │ (deferred, or its delivery died)
 *     └──release/resend──┘
 */

/**
 * A claim older than this belongs to a delivery that died: a Queue consumer invocation runs at most 15 minutes, so
 * no live delivery holds a line this long, and another may take it.
 */
export const CLAIM_TTL_MS = 16 * 60_000;
/**
 * A line whose message went out this long ago and that nobody claimed is sent again: its message was lost (a
 * delivery dropped after its retries, a local runtime restarted). The window keeps the queue short, so a live
 * message is claimed long before this.
 */
export const RESEND_AFTER_MS = 2 * 60_000;
/** Durable Object SQLite stores at most 2 MB per value: result bodies are kept in parts of this many UTF-16 units (≤ 1.5 MB as UTF-8). */
const BODY_PART_CHARS = 500_000;
const SCHEMA_VERSION = 1;

export type LineSpanRef = { index: number; offset: number; length: number };

export const LineClaimSchema = z.object({ index: z.number().int().nonnegative(), messageId: z.string().min(1).max(128), attempt: z.number().int().positive() });
export type LineClaim = z.infer<typeof LineClaimSchema>;

export type ClaimVerdict =
  | { index: number; verdict: "run" }
  /** Already answered: the delivery is a repeat. */
  | { index: number; verdict: "done" }
  /** Another live delivery runs it: ask again later (its result will be there, or its claim expired). */
  | { index: number; verdict: "busy"; retryAfterMs: number }
  /** The batch stopped (cancelled, expired, finished) or is not this object's: drop the message. */
  | { index: number; verdict: "stop" };

export const LineUsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
  reasoningTokens: z.number().int().nonnegative(),
});

/** What a line answered: the endpoint's response (status and JSON body), and its usage when it was answered. */
export const LineResultSchema = z.object({
  index: z.number().int().nonnegative(),
  status: z.number().int().min(100).max(599),
  body: z.string(),
  usage: LineUsageSchema.nullable(),
});
export type LineResult = z.infer<typeof LineResultSchema>;

/** Why the lines stopped being run before all were answered. */
export type StopReason = Exclude<UnprocessedReason, "batch_failed">;

export type LineCounts = { dispatched: number; done: number; answered: number };
export type DispatchCursor = { offset: number; index: number; exhausted: boolean };

type Phase = "running" | "stopping";

const MetaSchema = z.object({
  phase: z.enum(["running", "stopping"]).optional(),
  stopReason: z.enum(["batch_cancelled", "batch_expired"]).optional(),
  cursorOffset: z.coerce.number().int().default(0),
  cursorIndex: z.coerce.number().int().default(0),
  exhausted: z.coerce.number().int().default(0),
  done: z.coerce.number().int().default(0),
  answered: z.coerce.number().int().default(0),
});
type Meta = z.infer<typeof MetaSchema>;

type LineRow = { idx: number; state: "queued" | "running" | "done"; claim_message: string | null; claim_attempt: number | null; claimed_at: number | null };

export class LineBook {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#ensureSchema();
  }

  #ensureSchema(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS bd_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    const version = this.#sql.exec<{ value: string }>(`SELECT value FROM bd_meta WHERE key = 'schema_version'`).toArray()[0];
    if (version && Number(version.value) >= SCHEMA_VERSION) return;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS bd_lines (
      idx INTEGER PRIMARY KEY, offset INTEGER NOT NULL, length INTEGER NOT NULL, state TEXT NOT NULL, sent_at INTEGER,
      claim_message TEXT, claim_attempt INTEGER, claimed_at INTEGER, status INTEGER, usage TEXT)`);
    this.#sql.exec(`CREATE INDEX IF NOT EXISTS bd_lines_state ON bd_lines (state, idx)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS bd_bodies (idx INTEGER NOT NULL, part INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (idx, part))`);
    this.#setMeta({ schema_version: SCHEMA_VERSION });
  }

  #meta(): Meta {
    const rows = this.#sql.exec<{ key: string; value: string }>(`SELECT key, value FROM bd_meta`).toArray();
    return MetaSchema.parse(Object.fromEntries(rows.map((r) => [r.key, r.value])));
  }

  #setMeta(values: Record<string, string | number>): void {
    for (const [key, value] of Object.entries(values)) this.#sql.exec(`INSERT INTO bd_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, String(value));
  }

  /** The lines may be claimed from now on. */
  begin(): void {
    if (this.#meta().phase === undefined) this.#setMeta({ phase: "running" satisfies Phase });
  }

  /** No line is claimed any more; lines already running still record their results. The first reason stays. */
  stop(reason: StopReason): void {
    const meta = this.#meta();
    if (meta.phase === "stopping") return;
    this.#setMeta({ phase: "stopping" satisfies Phase, stopReason: reason });
  }

  stopReason(): StopReason | undefined {
    const meta = this.#meta();
    return meta.phase === "stopping" ? meta.stopReason : undefined;
  }

  cursor(): DispatchCursor {
    const meta = this.#meta();
    return { offset: meta.cursorOffset, index: meta.cursorIndex, exhausted: meta.exhausted === 1 };
  }

  counts(): LineCounts {
    const meta = this.#meta();
    return { dispatched: meta.cursorIndex, done: meta.done, answered: meta.answered };
  }

  /** Lines handed out and not answered yet (queued, deferred or running). */
  inFlight(): number {
    const meta = this.#meta();
    return meta.cursorIndex - meta.done;
  }

  /** Lines whose claim is live at `now`: a stopped batch is finished once none is left. */
  running(now: number): number {
    return this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM bd_lines WHERE state = 'running' AND claimed_at > ?`, now - CLAIM_TTL_MS).one().n;
  }

  /** Records lines about to be sent (their messages not out yet) and moves the cursor past them. */
  addDispatched(lines: readonly LineSpanRef[], cursor: DispatchCursor): void {
    for (const line of lines) this.#sql.exec(`INSERT OR IGNORE INTO bd_lines (idx, offset, length, state) VALUES (?, ?, ?, 'queued')`, line.index, line.offset, line.length);
    this.#setMeta({ cursorOffset: cursor.offset, cursorIndex: cursor.index, exhausted: cursor.exhausted ? 1 : 0 });
  }

  /** The lines' messages are out (a resent line gives up the claim of its lost delivery). */
  markSent(indexes: readonly number[], now: number): void {
    for (const index of indexes) {
      this.#sql.exec(`UPDATE bd_lines SET state = 'queued', sent_at = ?, claim_message = NULL, claim_attempt = NULL, claimed_at = NULL WHERE idx = ? AND state != 'done'`, now, index);
    }
  }

  /**
   * Lines whose message must go (again): never sent (the send after recording them failed), sent long ago and
   * never claimed (the message was lost), or claimed by a delivery that must have died.
   */
  toResend(now: number, limit: number): LineSpanRef[] {
    return this.#sql
      .exec<LineSpanRef>(
        `SELECT idx AS "index", offset, length FROM bd_lines
         WHERE (state = 'queued' AND (sent_at IS NULL OR sent_at < ?)) OR (state = 'running' AND claimed_at <= ?)
         ORDER BY idx LIMIT ?`,
        now - RESEND_AFTER_MS,
        now - CLAIM_TTL_MS,
        limit,
      )
      .toArray();
  }

  /**
   * Claims lines for one delivery. A line is run by the delivery that claims it; a delivery of the same message
   * with a later attempt number takes the line over (the Queue redelivers only after the earlier attempt ended
   * without acknowledging it: it failed or its worker died), as does any delivery once a claim expired.
   */
  claim(claims: readonly LineClaim[], now: number): ClaimVerdict[] {
    const meta = this.#meta();
    return claims.map(({ index, messageId, attempt }): ClaimVerdict => {
      const row = this.#sql.exec<LineRow>(`SELECT idx, state, claim_message, claim_attempt, claimed_at FROM bd_lines WHERE idx = ?`, index).toArray()[0];
      if (!row) return { index, verdict: "stop" };
      if (row.state === "done") return { index, verdict: "done" };
      if (meta.phase !== "running") return { index, verdict: "stop" };
      if (row.state === "running") {
        const sameMessage = row.claim_message === messageId;
        const live = row.claimed_at !== null && row.claimed_at > now - CLAIM_TTL_MS;
        if (live && !(sameMessage && attempt > (row.claim_attempt ?? 0))) {
          if (sameMessage && attempt === row.claim_attempt) return { index, verdict: "run" };
          return { index, verdict: "busy", retryAfterMs: row.claimed_at! + CLAIM_TTL_MS - now };
        }
      }
      this.#sql.exec(`UPDATE bd_lines SET state = 'running', claim_message = ?, claim_attempt = ?, claimed_at = ? WHERE idx = ?`, messageId, attempt, now, index);
      return { index, verdict: "run" };
    });
  }

  /**
   * Gives deferred lines back: their messages are sent again, visible from `visibleAt` (so they are not taken for
   * lost before then). A line this delivery claimed loses its claim; one it never started just waits.
   */
  release(claims: readonly Pick<LineClaim, "index" | "messageId">[], visibleAt: number): void {
    for (const { index, messageId } of claims) {
      this.#sql.exec(
        `UPDATE bd_lines SET state = 'queued', sent_at = ?, claim_message = NULL, claim_attempt = NULL, claimed_at = NULL
         WHERE idx = ? AND (state = 'queued' OR (state = 'running' AND claim_message = ?))`,
        visibleAt,
        index,
        messageId,
      );
    }
  }

  /** Writes a line's result; false when it already had one (the first result is the line's, for good). */
  record(result: LineResult): boolean {
    const row = this.#sql.exec<{ state: string }>(`SELECT state FROM bd_lines WHERE idx = ?`, result.index).toArray()[0];
    if (!row || row.state === "done") return false;
    this.#sql.exec(`UPDATE bd_lines SET state = 'done', status = ?, usage = ? WHERE idx = ?`, result.status, result.usage ? JSON.stringify(result.usage) : null, result.index);
    for (let part = 0; part * BODY_PART_CHARS < result.body.length || part === 0; part++) {
      this.#sql.exec(`INSERT OR REPLACE INTO bd_bodies (idx, part, text) VALUES (?, ?, ?)`, result.index, part, result.body.slice(part * BODY_PART_CHARS, (part + 1) * BODY_PART_CHARS));
    }
    const meta = this.#meta();
    this.#setMeta({ done: meta.done + 1, answered: meta.answered + (result.status === 200 ? 1 : 0) });
    return true;
  }

  /** Answered lines from `fromIndex` on, in line order, at most `limit` (finalising reads them page by page). */
  results(fromIndex: number, limit: number): LineResult[] {
    const rows = this.#sql.exec<{ idx: number; status: number; usage: string | null }>(`SELECT idx, status, usage FROM bd_lines WHERE state = 'done' AND idx >= ? ORDER BY idx LIMIT ?`, fromIndex, limit).toArray();
    return rows.map((row) => ({
      index: row.idx,
      status: row.status,
      usage: row.usage === null ? null : LineUsageSchema.parse(JSON.parse(row.usage)),
      body: this.#sql
        .exec<{ text: string }>(`SELECT text FROM bd_bodies WHERE idx = ? ORDER BY part`, row.idx)
        .toArray()
        .map((p) => p.text)
        .join(""),
    }));
  }
}
