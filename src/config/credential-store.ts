import * as z from "zod";
import { MasterKeyring } from "../lib/master-keys";
import { TtlCache } from "../lib/ttl-cache";
import { CredentialNameSchema } from "./schema";

/**
 * Provider credentials stored in the gateway ("virtual keys"): encrypted with AES-GCM under the master key,
 * one KV entry per workspace and name. Nothing here ever hands a plaintext to the admin API.
 */
export { CredentialNameSchema };

const StoredCredentialSchema = z.object({
  workspaceId: z.string(),
  name: z.string(),
  keyId: z.string(),
  iv: z.string(),
  ciphertext: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
type StoredCredential = z.infer<typeof StoredCredentialSchema>;

/** What the admin API shows of a credential: never the value. */
export type CredentialInfo = { name: string; masterKeyId: string; createdAt: string; updatedAt: string };
const infoOf = (stored: StoredCredential): CredentialInfo => ({ name: stored.name, masterKeyId: stored.keyId, createdAt: stored.createdAt, updatedAt: stored.updatedAt });

/** Decrypted values stay in the isolate this long: a changed or deleted credential is seen everywhere after it. */
const PLAINTEXT_CACHE_TTL_MS = 5_000;
const plaintextCache = new TtlCache<string | null>({ ttlMs: PLAINTEXT_CACHE_TTL_MS, maxEntries: 1_000 });

const CREDENTIAL_PREFIX = "cred:";
const credentialKv = (workspaceId: string, name: string) => `${CREDENTIAL_PREFIX}${workspaceId}:${name}`;
const cacheKey = (workspaceId: string, name: string) => `${workspaceId}\u0000${name}`;
/** Bound into each ciphertext as AES-GCM additional data, so a record copied to another workspace or name fails. */
const sealContext = (workspaceId: string, name: string) => `switchyard-credential:${workspaceId}:${name}`;

async function readStored(env: Env, key: string): Promise<StoredCredential | null> {
  const stored = await env.GATEWAY_KV.get(key);
  return stored === null ? null : StoredCredentialSchema.parse(JSON.parse(stored));
}

async function listStored(env: Env, prefix: string): Promise<StoredCredential[]> {
  const out: StoredCredential[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.GATEWAY_KV.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const stored of await Promise.all(page.keys.map((k) => readStored(env, k.name)))) if (stored) out.push(stored);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out;
}

/** Seals under `keyring`'s current key (the environment's master key unless a test or migration passes one). */
export async function putCredential(env: Env, workspaceId: string, name: string, value: string, keyring = MasterKeyring.fromEnv(env)): Promise<CredentialInfo & { created: boolean }> {
  const existing = await readStored(env, credentialKv(workspaceId, name));
  const now = new Date().toISOString();
  const sealed = await keyring.seal(value, sealContext(workspaceId, name));
  const stored: StoredCredential = { workspaceId, name, ...sealed, createdAt: existing?.createdAt ?? now, updatedAt: now };
  await env.GATEWAY_KV.put(credentialKv(workspaceId, name), JSON.stringify(stored));
  plaintextCache.delete(cacheKey(workspaceId, name));
  return { ...infoOf(stored), created: existing === null };
}

export async function listCredentials(env: Env, workspaceId: string): Promise<CredentialInfo[]> {
  return (await listStored(env, `${CREDENTIAL_PREFIX}${workspaceId}:`)).map(infoOf).sort((a, b) => a.name.localeCompare(b.name));
}

export async function deleteCredential(env: Env, workspaceId: string, name: string): Promise<boolean> {
  const key = credentialKv(workspaceId, name);
  if ((await env.GATEWAY_KV.get(key)) === null) return false;
  await env.GATEWAY_KV.delete(key);
  plaintextCache.delete(cacheKey(workspaceId, name));
  return true;
}

export async function deleteWorkspaceCredentials(env: Env, workspaceId: string): Promise<void> {
  for (const stored of await listStored(env, `${CREDENTIAL_PREFIX}${workspaceId}:`)) await deleteCredential(env, workspaceId, stored.name);
}

/** The plaintext of a stored credential for an upstream call, or null when the workspace has none by that name. */
export async function readCredential(env: Env, workspaceId: string, name: string): Promise<string | null> {
  return plaintextCache.getOrLoad(cacheKey(workspaceId, name), async () => {
    const stored = await readStored(env, credentialKv(workspaceId, name));
    return stored ? MasterKeyring.fromEnv(env).open(stored, sealContext(workspaceId, name)) : null;
  });
}

export type RotationReport = { masterKeyId: string; rotated: number; unchanged: number; failed: { workspaceId: string; name: string; masterKeyId: string }[] };

/** Re-encrypts every stored credential under the current master key; ones already under it are left alone. */
export async function rotateCredentials(env: Env): Promise<RotationReport> {
  const keyring = MasterKeyring.fromEnv(env);
  const report: RotationReport = { masterKeyId: keyring.currentId, rotated: 0, unchanged: 0, failed: [] };
  for (const stored of await listStored(env, CREDENTIAL_PREFIX)) {
    if (stored.keyId === keyring.currentId) {
      report.unchanged++;
      continue;
    }
    const context = sealContext(stored.workspaceId, stored.name);
    const plaintext = keyring.has(stored.keyId) ? await keyring.open(stored, context).catch(() => null) : null;
    if (plaintext === null) {
      report.failed.push({ workspaceId: stored.workspaceId, name: stored.name, masterKeyId: stored.keyId });
      continue;
    }
    const resealed: StoredCredential = { ...stored, ...(await keyring.seal(plaintext, context)), updatedAt: new Date().toISOString() };
    await env.GATEWAY_KV.put(credentialKv(stored.workspaceId, stored.name), JSON.stringify(resealed));
    report.rotated++;
  }
  return report;
}

