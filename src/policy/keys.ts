import * as z from "zod";
import { GatewayError } from "../lib/errors";
import { sha256Hex, timingSafeEqualStrings } from "../lib/crypto";
import { randomId } from "../lib/ids";
import { TtlCache } from "../lib/ttl-cache";
import { BudgetSchema, RateLimitSchema } from "./limit-schemas";
import { isWorkspaceId } from "./workspaces";

/** What a key may do: limits, budget, the routes it may call, and when it stops working. */
export const KeyPolicySchema = z.object({
  rateLimit: RateLimitSchema.optional(),
  budget: BudgetSchema.optional(),
  routes: z.array(z.string().min(1)).min(1).optional().describe("Route names this key may call; unset means every route and provider/model of its workspace."),
  expiresAt: z.iso.datetime({ offset: true }).optional().describe("After this instant the key is refused (401)."),
});
export type KeyPolicy = z.infer<typeof KeyPolicySchema>;

/** A gateway key as stored: never the key itself, only its SHA-256. */
export const KeyRecordSchema = KeyPolicySchema.extend({
  id: z.string(),
  workspaceId: z.string(),
  name: z.string(),
  hash: z.string(),
  createdAt: z.string(),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

export const isExpired = (key: KeyRecord, now = Date.now()): boolean => key.expiresAt !== undefined && Date.parse(key.expiresAt) <= now;

/**
 * A key restricted to some routes may call only those. Checked before the model is resolved, so the answer is the
 * same whether the model exists or not: such a key learns nothing about the rest of its workspace.
 */
export function requireModelAllowed(key: KeyRecord, model: string): void {
  if (key.routes && !key.routes.includes(model)) {
    throw new GatewayError({ status: 403, type: "permission_error", code: "model_not_allowed", param: "model", message: `This key may only call the routes ${key.routes.map((r) => `"${r}"`).join(", ")}; "${model}" is not one of them.` });
  }
}

/** The public view of a key: everything but the hash. */
export const publicKey = ({ hash: _hash, ...rest }: KeyRecord) => rest;

/** Keys are `sy-` + 32 characters of a 62-letter alphabet: about 190 bits of randomness. */
const KEY_PREFIX = "sy-";
const KEY_RANDOM_CHARS = 32;

/**
 * How long an isolate trusts a key lookup. A revoked key stops working within this time (plus KV's own
 * propagation, immediate in the revoking location).
 */
const KEY_CACHE_TTL_MS = 3_000;
/** Unknown keys are remembered briefly too, so a flood of bad keys does not become a flood of KV reads. */
const UNKNOWN_KEY_CACHE_TTL_MS = 1_000;

const keyByHashKv = (hash: string) => `key:${hash}`;
const workspaceKeyKv = (workspaceId: string, keyId: string) => `ws-key:${workspaceId}:${keyId}`;
const workspaceKeysPrefix = (workspaceId: string) => `ws-key:${workspaceId}:`;

const keyCache = new TtlCache<KeyRecord | null>({ ttlMs: KEY_CACHE_TTL_MS, maxEntries: 10_000 });

/**
 * Digests of recently presented keys. A digest never goes stale (revocation acts on `keyCache`), so a client
 * sending the same key saves a SHA-256 per request; unknown strings are never memoised.
 */
const digestMemo = new TtlCache<string>({ ttlMs: 60_000, maxEntries: 10_000 });

async function storeKey(env: Env, record: KeyRecord): Promise<void> {
  const value = JSON.stringify(record);
  await Promise.all([env.GATEWAY_KV.put(keyByHashKv(record.hash), value), env.GATEWAY_KV.put(workspaceKeyKv(record.workspaceId, record.id), value)]);
  keyCache.delete(record.hash);
}

export async function createKey(env: Env, workspaceId: string, name: string, policy: KeyPolicy = {}): Promise<{ record: KeyRecord; key: string }> {
  const key = randomId(KEY_PREFIX, KEY_RANDOM_CHARS);
  const record: KeyRecord = { ...policy, id: randomId("key_", 16), workspaceId, name, hash: await sha256Hex(key), createdAt: new Date().toISOString() };
  await storeKey(env, record);
  return { record, key };
}

/** Ids the gateway hands out; anything else (a 600-character path segment) names no key and is not looked up. */
const KEY_ID = /^key_[0-9A-Za-z]{1,64}$/;
const isKeyAddress = (workspaceId: string, keyId: string) => KEY_ID.test(keyId) && isWorkspaceId(workspaceId);

export async function getKey(env: Env, workspaceId: string, keyId: string): Promise<KeyRecord | null> {
  if (!isKeyAddress(workspaceId, keyId)) return null;
  const stored = await env.GATEWAY_KV.get(workspaceKeyKv(workspaceId, keyId));
  return stored === null ? null : KeyRecordSchema.parse(JSON.parse(stored));
}

/** A change to a key's name or policy; `null` removes a setting. */
export type KeyChange = { name?: string | undefined } & { [K in keyof KeyPolicy]?: KeyPolicy[K] | null };

export async function updateKey(env: Env, workspaceId: string, keyId: string, change: KeyChange): Promise<KeyRecord | null> {
  const current = await getKey(env, workspaceId, keyId);
  if (!current) return null;
  const next: Record<string, unknown> = { ...current };
  for (const [field, value] of Object.entries(change)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  const record = KeyRecordSchema.parse(next);
  await storeKey(env, record);
  return record;
}

export async function listKeys(env: Env, workspaceId: string): Promise<KeyRecord[]> {
  const records: KeyRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.GATEWAY_KV.list({ prefix: workspaceKeysPrefix(workspaceId), ...(cursor ? { cursor } : {}) });
    const values = await Promise.all(page.keys.map((k) => env.GATEWAY_KV.get(k.name)));
    for (const value of values) {
      const parsed = value === null ? undefined : KeyRecordSchema.safeParse(JSON.parse(value));
      if (parsed?.success) records.push(parsed.data);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function revokeKey(env: Env, workspaceId: string, keyId: string): Promise<boolean> {
  if (!isKeyAddress(workspaceId, keyId)) return false;
  const stored = await env.GATEWAY_KV.get(workspaceKeyKv(workspaceId, keyId));
  if (stored === null) return false;
  const record = KeyRecordSchema.parse(JSON.parse(stored));
  await Promise.all([env.GATEWAY_KV.delete(keyByHashKv(record.hash)), env.GATEWAY_KV.delete(workspaceKeyKv(workspaceId, keyId))]);
  keyCache.delete(record.hash);
  return true;
}

/** Whether a presented string has the shape of a gateway key (it may still be unknown or revoked). */
export const isGatewayKeyShaped = (presented: string): boolean => presented.startsWith(KEY_PREFIX) && presented.length === KEY_PREFIX.length + KEY_RANDOM_CHARS;

/** The key's record, or null when the key is unknown or revoked. */
export async function verifyKey(env: Env, presented: string): Promise<KeyRecord | null> {
  if (!isGatewayKeyShaped(presented)) return null;
  const hash = digestMemo.get(presented) ?? (await sha256Hex(presented));
  const cached = keyCache.get(hash);
  const record =
    cached !== undefined
      ? cached
      : await (async () => {
          const stored = await env.GATEWAY_KV.get(keyByHashKv(hash));
          const parsed = stored === null ? null : KeyRecordSchema.parse(JSON.parse(stored));
          keyCache.set(hash, parsed, parsed ? KEY_CACHE_TTL_MS : UNKNOWN_KEY_CACHE_TTL_MS);
          return parsed;
        })();
  // The lookup is by hash; the final comparison is constant-time so the match itself leaks no timing.
  if (!record || !timingSafeEqualStrings(record.hash, hash)) return null;
  digestMemo.set(presented, hash);
  return record;
}
