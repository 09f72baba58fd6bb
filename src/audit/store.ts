import * as z from "zod";
import { base64UrlEncode } from "../lib/crypto";
import { AdminRoleSchema } from "../policy/admin-access";
import { AuditActionSchema, AuditTargetTypeSchema } from "./actions";
import type { AuditEntry } from "./entry";

/** Writing and reading the audit log in D1 (table `audit_log`, migrations/0002_audit_log.sql). */

const COLUMNS = ["id", "ts", "actor_id", "actor_name", "actor_role", "action", "target_type", "target_id", "workspace_id", "before_hash", "after_hash", "changed_fields", "request_id", "client_address"] as const;
const INSERT = `INSERT INTO audit_log (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")}) ON CONFLICT (id) DO NOTHING`;

const rowValues = (entry: AuditEntry) => [
  entry.id,
  Date.parse(entry.time),
  entry.actor.id,
  entry.actor.name,
  entry.actor.role,
  entry.action,
  entry.target.type,
  entry.target.id,
  entry.target.workspaceId,
  entry.beforeHash,
  entry.afterHash,
  JSON.stringify(entry.changedFields),
  entry.requestId,
  entry.clientAddress,
];

/** Inserts entries in one transaction; an id already stored is skipped, so a retried write adds nothing. */
export async function insertAuditEntries(db: D1Database, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.batch(entries.map((entry) => db.prepare(INSERT).bind(...rowValues(entry))));
}

const RowSchema = z.object({
  id: z.string(),
  ts: z.number(),
  actor_id: z.string(),
  actor_name: z.string(),
  actor_role: z.string(),
  action: z.string(),
  target_type: z.string(),
  target_id: z.string(),
  workspace_id: z.string().nullable(),
  before_hash: z.string().nullable(),
  after_hash: z.string().nullable(),
  changed_fields: z.string(),
  request_id: z.string(),
  client_address: z.string().nullable(),
});

export const AUDIT_PAGE_MAX = 200;

export type AuditQuery = {
  /** Entries of these workspaces only (a scoped token's); null: every entry. */
  scope: readonly string[] | null;
  workspace?: string | undefined;
  actor?: string | undefined;
  action?: z.infer<typeof AuditActionSchema> | undefined;
  targetType?: z.infer<typeof AuditTargetTypeSchema> | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  limit: number;
  /** Position after which (older) the page starts: the `next` of the previous page. */
  after?: AuditCursor | undefined;
};

export type AuditCursor = { ts: number; id: string };

const CursorSchema = z.tuple([z.number().int().nonnegative(), z.string().min(1).max(100)]);

export const encodeCursor = (cursor: AuditCursor): string => base64UrlEncode(new TextEncoder().encode(JSON.stringify([cursor.ts, cursor.id])));

/** The cursor in a `cursor` parameter, or null when it is not one this API wrote. */
export function decodeCursor(text: string): AuditCursor | null {
  try {
    const json = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const parsed = CursorSchema.safeParse(JSON.parse(json));
    return parsed.success ? { ts: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}

/** A page of entries, newest first, and the cursor of the next (older) page. */
export async function queryAuditLog(db: D1Database, query: AuditQuery): Promise<{ data: AuditEntry[]; next: string | null }> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.scope !== null) {
    where.push("workspace_id IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(query.scope));
  }
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal("workspace_id", query.workspace);
  equal("actor_id", query.actor);
  equal("action", query.action);
  equal("target_type", query.targetType);
  if (query.fromMs !== undefined) {
    where.push("ts >= ?");
    params.push(query.fromMs);
  }
  if (query.toMs !== undefined) {
    where.push("ts < ?");
    params.push(query.toMs);
  }
  if (query.after) {
    where.push("(ts < ? OR (ts = ? AND id < ?))");
    params.push(query.after.ts, query.after.ts, query.after.id);
  }
  const sql = `SELECT ${COLUMNS.join(", ")} FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY ts DESC, id DESC LIMIT ?`;
  // One row more than the page tells whether another page follows.
  const { results } = await db.prepare(sql).bind(...params, query.limit + 1).all();
  const rows = z.array(RowSchema).parse(results);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((row) => ({
      id: row.id,
      time: new Date(row.ts).toISOString(),
      actor: { id: row.actor_id, name: row.actor_name, role: AdminRoleSchema.parse(row.actor_role) },
      action: AuditActionSchema.parse(row.action),
      target: { type: AuditTargetTypeSchema.parse(row.target_type), id: row.target_id, workspaceId: row.workspace_id },
      beforeHash: row.before_hash,
      afterHash: row.after_hash,
      changedFields: z.array(z.string()).parse(JSON.parse(row.changed_fields)),
      requestId: row.request_id,
      clientAddress: row.client_address,
    })),
    next: rows.length > query.limit && last ? encodeCursor({ ts: last.ts, id: last.id }) : null,
  };
}
