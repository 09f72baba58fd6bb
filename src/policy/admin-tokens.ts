import * as z from "zod";
import { sha256Hex, timingSafeEqualStrings } from "../lib/crypto";
import { randomId } from "../lib/ids";
import { TtlCache } from "../lib/ttl-cache";
import { AdminRoleSchema, type AdminIdentity } from "./admin-access";

/**
 * Admin tokens made through the admin API, stored like gateway keys (src/policy/keys.ts): only the SHA-256 of the
 * token is kept, looked up by that hash and compared in constant time. Each has a role and, for scoped roles, the
 * workspaces it may act on. The store knows nothing about what a role may do (src/policy/admin-access.ts), so a
 * new kind of token (a self-hosted data plane's `node` token) is a new role, not a new store.
 */

export const AdminTokenPolicySchema = z.object({
  name: z.string().min(1).max(200),
  role: AdminRoleSchema,
  workspaces: z.array(z.string().min(1)).min(1).max(1_000).optional().describe("The workspaces this token may act on; required for workspace_admin and node (the workspaces a data plane is enrolled in), optional for viewer (unset: every workspace), refused for owner."),
  expiresAt: z.iso.datetime({ offset: true }).optional().describe("After this instant the token is refused (401)."),
});
export type AdminTokenPolicy = z.infer<typeof AdminTokenPolicySchema>;

/** A stored admin token: never the token itself, only its SHA-256. */
export const AdminTokenRecordSchema = AdminTokenPolicySchema.extend({
  id: z.string(),
  hash: z.string(),
  createdAt: z.string(),
  createdBy: z.string().describe("Id of the token that created it (`ADMIN_TOKEN` for the secret)."),
});
export type AdminTokenRecord = z.infer<typeof AdminTokenRecordSchema>;

/** The public view of a token: everything but the hash. */
export const publicAdminToken = ({ hash: _hash, ...rest }: AdminTokenRecord) => rest;

/** `sya-` + 32 characters of a 62-letter alphabet (about 190 bits), told apart from gateway keys (`sy-`) by the prefix. */
export const ADMIN_TOKEN_PREFIX = "sya-";
const TOKEN_RANDOM_CHARS = 32;

/**
 * How long an isolate trusts a token lookup: a revoked token stops working within this time in the isolates that
 * saw it (at once in the one that revoked it), plus KV's own propagation to other locations (up to 60 s).
 */
export const ADMIN_TOKEN_CACHE_TTL_MS = 3_000;
/** Unknown tokens are remembered briefly too, so a flood of bad tokens does not become a flood of KV reads. */
const UNKNOWN_TOKEN_CACHE_TTL_MS = 1_000;

const byHashKv = (hash: string) => `admin-token:${hash}`;
/** Admin token ids (`adm_…`), told apart from gateway key ids where both are recorded (a batch's creator). */
export const ADMIN_TOKEN_ID_PREFIX = "adm_";
const byIdKv = (id: string) => `admin-token-id:${id}`;
const BY_ID_PREFIX = "admin-token-id:";

const tokenCache = new TtlCache<AdminTokenRecord | null>({ ttlMs: ADMIN_TOKEN_CACHE_TTL_MS, maxEntries: 1_000 });

export const isAdminTokenShaped = (presented: string): boolean => presented.startsWith(ADMIN_TOKEN_PREFIX) && presented.length === ADMIN_TOKEN_PREFIX.length + TOKEN_RANDOM_CHARS;

export const identityOf = (record: AdminTokenRecord): AdminIdentity => ({ id: record.id, name: record.name, role: record.role, workspaces: record.workspaces ?? null });

export async function createAdminToken(env: Env, policy: AdminTokenPolicy, createdBy: string): Promise<{ record: AdminTokenRecord; token: string }> {
  const token = randomId(ADMIN_TOKEN_PREFIX, TOKEN_RANDOM_CHARS);
  const record: AdminTokenRecord = { ...policy, id: randomId(ADMIN_TOKEN_ID_PREFIX, 16), hash: await sha256Hex(token), createdAt: new Date().toISOString(), createdBy };
  const value = JSON.stringify(record);
  await Promise.all([env.GATEWAY_KV.put(byHashKv(record.hash), value), env.GATEWAY_KV.put(byIdKv(record.id), value)]);
  tokenCache.delete(record.hash);
  return { record, token };
}

export async function getAdminToken(env: Env, id: string): Promise<AdminTokenRecord | null> {
  const stored = await env.GATEWAY_KV.get(byIdKv(id));
  return stored === null ? null : AdminTokenRecordSchema.parse(JSON.parse(stored));
}

export async function listAdminTokens(env: Env): Promise<AdminTokenRecord[]> {
  const records: AdminTokenRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.GATEWAY_KV.list({ prefix: BY_ID_PREFIX, ...(cursor ? { cursor } : {}) });
    const values = await Promise.all(page.keys.map((k) => env.GATEWAY_KV.get(k.name)));
    for (const value of values) {
      const parsed = value === null ? undefined : AdminTokenRecordSchema.safeParse(JSON.parse(value));
      if (parsed?.success) records.push(parsed.data);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Removes the token; returns its record (null when there was none). */
export async function revokeAdminToken(env: Env, id: string): Promise<AdminTokenRecord | null> {
  const record = await getAdminToken(env, id);
  if (!record) return null;
  await Promise.all([env.GATEWAY_KV.delete(byHashKv(record.hash)), env.GATEWAY_KV.delete(byIdKv(id))]);
  tokenCache.delete(record.hash);
  return record;
}

/** The token's record, or null when it is unknown, revoked or expired. */
export async function verifyAdminToken(env: Env, presented: string, now = Date.now()): Promise<AdminTokenRecord | null> {
  if (!isAdminTokenShaped(presented)) return null;
  const hash = await sha256Hex(presented);
  let record = tokenCache.get(hash);
  if (record === undefined) {
    const stored = await env.GATEWAY_KV.get(byHashKv(hash));
    record = stored === null ? null : AdminTokenRecordSchema.parse(JSON.parse(stored));
    tokenCache.set(hash, record, record ? ADMIN_TOKEN_CACHE_TTL_MS : UNKNOWN_TOKEN_CACHE_TTL_MS);
  }
  // The lookup is by hash; the final comparison is constant-time so the match itself leaks no timing.
  if (!record || !timingSafeEqualStrings(record.hash, hash)) return null;
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now) return null;
  return record;
}
