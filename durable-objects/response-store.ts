import { DurableObject } from "cloudflare:workers";

/** Bumped when the tables below change; `#ensureSchema` migrates from the stored version. */
const SCHEMA_VERSION = 1;

/**
 * SQLite in a Durable Object holds at most 2 MB in one row; item JSON is split into parts of this many UTF-16 code
 * units (at most 3 UTF-8 bytes each), so any item fits, a base64 image included.
 */
const PART_CHARS = 600_000;

/** One conversation returned in one call stays well under the RPC message limit (32 MiB). */
export const MAX_CONVERSATION_CHARS = 24 * 1024 * 1024;

/** A chain longer than this is refused rather than walked (ids never form cycles; this bounds the work). */
const MAX_CHAIN = 10_000;

export type StoredResponseInput = {
  id: string;
  /** The Response object as JSON, without its output (that is stored item by item). */
  response: string;
  /** Input items (JSON), in order, and their ids (for input_items cursors). */
  input: { id: string; json: string }[];
  output: { id: string; json: string }[];
  previousId: string | null;
  keyId: string | null;
  createdAt: number;
  expiresAt: number;
};

export type ConversationResult = { ok: true; items: string[] } | { ok: false; reason: "not_found" | "broken"; missingId?: string } | { ok: false; reason: "too_large" };

export type InputItemsPage = { items: string[]; ids: string[]; hasMore: boolean } | null;

type Kind = "input" | "output";

/** Splits text where no surrogate pair is cut (a lone surrogate would not survive SQLite's UTF-8). */
function partsOf(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < text.length || parts.length === 0) {
    let end = Math.min(text.length, start + PART_CHARS);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}

/**
 * Stored responses of one workspace shard (`<workspaceId>:<shard>`): the Response objects, their input and output
 * items, and the `previous_response_id` links between them. A conversation stays in one shard (a continuation
 * gets its predecessor's shard), so it is rebuilt in one call. Rows expire at `expires_at` (the workspace's
 * retention when written): reads ignore expired rows and an alarm deletes them.
 */
export class ResponseStore extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#ensureSchema();
  }

  #ensureSchema(): void {
    this.#sql.exec("CREATE TABLE IF NOT EXISTS rs_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const row = this.#sql.exec<{ value: number }>("SELECT value FROM rs_meta WHERE key = 'schema_version'").toArray()[0];
    if ((row?.value ?? 0) >= SCHEMA_VERSION) return;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS rs_responses (
      id TEXT PRIMARY KEY,
      previous_id TEXT,
      key_id TEXT,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      response TEXT NOT NULL
    )`);
    this.#sql.exec("CREATE INDEX IF NOT EXISTS rs_responses_expires ON rs_responses (expires_at)");
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS rs_items (
      response_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      position INTEGER NOT NULL,
      part INTEGER NOT NULL,
      item_id TEXT NOT NULL,
      data TEXT NOT NULL,
      PRIMARY KEY (response_id, kind, position, part)
    )`);
    this.#sql.exec("INSERT INTO rs_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", SCHEMA_VERSION);
  }

  #live(id: string, now: number): { previous_id: string | null; response: string } | undefined {
    return this.#sql.exec<{ previous_id: string | null; response: string }>("SELECT previous_id, response FROM rs_responses WHERE id = ? AND expires_at > ?", id, now).toArray()[0];
  }

  #items(responseId: string, kind: Kind): { ids: string[]; items: string[] } {
    const ids: string[] = [];
    const items: string[] = [];
    let position = -1;
    for (const row of this.#sql.exec<{ position: number; item_id: string; data: string }>("SELECT position, item_id, data FROM rs_items WHERE response_id = ? AND kind = ? ORDER BY position, part", responseId, kind)) {
      if (row.position !== position) {
        position = row.position;
        ids.push(row.item_id);
        items.push(row.data);
      } else items[items.length - 1] += row.data;
    }
    return { ids, items };
  }

  #insertItems(responseId: string, kind: Kind, items: StoredResponseInput["input"]): void {
    for (const [position, item] of items.entries()) {
      for (const [part, data] of partsOf(item.json).entries()) {
        this.#sql.exec("INSERT INTO rs_items (response_id, kind, position, part, item_id, data) VALUES (?, ?, ?, ?, ?, ?)", responseId, kind, position, part, item.id, data);
      }
    }
  }

  /** Stores one response (a retry with the same id replaces it). */
  async put(input: StoredResponseInput): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      this.#deleteRows(input.id);
      this.#sql.exec(
        "INSERT INTO rs_responses (id, previous_id, key_id, created_at, expires_at, response) VALUES (?, ?, ?, ?, ?, ?)",
        input.id,
        input.previousId,
        input.keyId,
        input.createdAt,
        input.expiresAt,
        input.response,
      );
      this.#insertItems(input.id, "input", input.input);
      this.#insertItems(input.id, "output", input.output);
    });
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > input.expiresAt) await this.ctx.storage.setAlarm(input.expiresAt);
  }

  /** The Response object (without output) and its output items, when the response exists and has not expired. */
  get(id: string, now = Date.now()): { response: string; output: string[] } | null {
    const row = this.#live(id, now);
    if (!row) return null;
    return { response: row.response, output: this.#items(id, "output").items };
  }

  /**
   * The conversation up to and including response `id`: every earlier response's input and output items, oldest
   * first, then this one's. A missing or expired earlier response breaks the chain (reported, never skipped).
   */
  conversation(id: string, now = Date.now()): ConversationResult {
    const chain: string[] = [];
    let cursor: string | null = id;
    while (cursor !== null) {
      if (chain.length >= MAX_CHAIN) return { ok: false, reason: "too_large" };
      const row = this.#live(cursor, now);
      if (!row) return chain.length === 0 ? { ok: false, reason: "not_found" } : { ok: false, reason: "broken", missingId: cursor };
      chain.push(cursor);
      cursor = row.previous_id;
    }
    const items: string[] = [];
    let chars = 0;
    for (const responseId of chain.reverse()) {
      for (const kind of ["input", "output"] as const) {
        for (const item of this.#items(responseId, kind).items) {
          chars += item.length;
          if (chars > MAX_CONVERSATION_CHARS) return { ok: false, reason: "too_large" };
          items.push(item);
        }
      }
    }
    return { ok: true, items };
  }

  /** One page of a response's input items, in `order`, after or before an item id. Null when the response is gone. */
  inputItems(id: string, page: { limit: number; order: "asc" | "desc"; after?: string; before?: string }, now = Date.now()): InputItemsPage {
    if (!this.#live(id, now)) return null;
    const all = this.#items(id, "input");
    let indexes = all.ids.map((_, index) => index);
    if (page.order === "desc") indexes.reverse();
    if (page.after !== undefined) {
      const at = indexes.findIndex((i) => all.ids[i] === page.after);
      indexes = at === -1 ? [] : indexes.slice(at + 1);
    }
    if (page.before !== undefined) {
      const at = indexes.findIndex((i) => all.ids[i] === page.before);
      indexes = at === -1 ? [] : indexes.slice(0, at);
    }
    const selected = indexes.slice(0, page.limit);
    return { items: selected.map((i) => all.items[i]!), ids: selected.map((i) => all.ids[i]!), hasMore: indexes.length > selected.length };
  }

  /** Deletes a response and its items; false when there was none (or it had expired). */
  delete(id: string, now = Date.now()): boolean {
    if (!this.#live(id, now)) return false;
    this.ctx.storage.transactionSync(() => this.#deleteRows(id));
    return true;
  }

  #deleteRows(id: string): void {
    this.#sql.exec("DELETE FROM rs_items WHERE response_id = ?", id);
    this.#sql.exec("DELETE FROM rs_responses WHERE id = ?", id);
  }

  /** Deletes what expired, then wakes again at the next expiry. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM rs_items WHERE response_id IN (SELECT id FROM rs_responses WHERE expires_at <= ?)", now);
      this.#sql.exec("DELETE FROM rs_responses WHERE expires_at <= ?", now);
    });
    const next = this.#sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM rs_responses").one().next;
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  /** How many responses are held (expired ones the alarm has not deleted yet included): for operators and tests. */
  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM rs_responses").one().n;
  }

  /** Forgets every response (the workspace was deleted). The tables stay, so the object is never without them. */
  async forget(): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM rs_items");
      this.#sql.exec("DELETE FROM rs_responses");
    });
    await this.ctx.storage.deleteAlarm();
  }
}
