import * as z from "zod";
import { keyByHashKv, KeyRecordSchema, workspaceKeyKv, workspaceKeysPrefix } from "../policy/key-record";
import { workspaceConfigKv, workspaceKv } from "../policy/workspace-record";
import type { SyncResponse, WorkspaceSnapshot } from "./protocol";

/**
 * A data plane's copy of its control plane's workspaces, configs and key records, kept in its own GATEWAY_KV in
 * exactly the entries the Worker reads (docs/storage.md): the gateway serves a synced workspace as it would one
 * made through its own admin API. The local KV is persisted on disk, so the copy is the last-known-good one
 * across control-plane outages and the node's own restarts. Pure data over a minimal KV interface: the sync
 * loop (scripts/runtime/hybrid/sync.ts) drives it through Miniflare's binding proxy.
 */

/** The few KV operations the replica needs (Workers KV and Miniflare's proxy of it both have them). */
export type ReplicaKv = {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: { prefix: string; cursor?: string }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>;
};

/** The replica's own bookkeeping: each synced workspace's version. Never read by the Worker. */
export const REPLICA_STATE_KV = "hybrid:replica";
const ReplicaStateSchema = z.object({ versions: z.record(z.string(), z.string()) });
export type ReplicaState = z.infer<typeof ReplicaStateSchema>;

export async function readReplicaState(kv: ReplicaKv): Promise<ReplicaState> {
  const stored = await kv.get(REPLICA_STATE_KV);
  const parsed = stored === null ? undefined : ReplicaStateSchema.safeParse(JSON.parse(stored));
  return parsed?.success ? parsed.data : { versions: {} };
}

async function localKeys(kv: ReplicaKv, workspaceId: string): Promise<{ id: string; hash: string }[]> {
  const found: { id: string; hash: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix: workspaceKeysPrefix(workspaceId), ...(cursor ? { cursor } : {}) });
    for (const entry of page.keys) {
      const value = await kv.get(entry.name);
      const parsed = value === null ? undefined : KeyRecordSchema.safeParse(JSON.parse(value));
      if (parsed?.success) found.push({ id: parsed.data.id, hash: parsed.data.hash });
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return found;
}

/** Writes one workspace's snapshot: keys first removed (a revoked key), then written, then the config. */
async function applySnapshot(kv: ReplicaKv, snapshot: WorkspaceSnapshot): Promise<void> {
  const wanted = new Map(snapshot.keys.map((k) => [k.id, k]));
  for (const local of await localKeys(kv, snapshot.id)) {
    if (wanted.get(local.id)?.hash !== local.hash) await Promise.all([kv.delete(keyByHashKv(local.hash)), kv.delete(workspaceKeyKv(snapshot.id, local.id))]);
  }
  for (const key of snapshot.keys) {
    const value = JSON.stringify(key);
    await Promise.all([kv.put(keyByHashKv(key.hash), value), kv.put(workspaceKeyKv(snapshot.id, key.id), value)]);
  }
  await kv.put(workspaceKv(snapshot.id), JSON.stringify(snapshot.workspace));
  if (snapshot.config === null) await kv.delete(workspaceConfigKv(snapshot.id));
  else await kv.put(workspaceConfigKv(snapshot.id), snapshot.config);
}

/** Removes every trace of a workspace the node no longer serves (unenrolled, deleted, or the node token revoked). */
async function dropWorkspace(kv: ReplicaKv, workspaceId: string): Promise<void> {
  for (const local of await localKeys(kv, workspaceId)) await Promise.all([kv.delete(keyByHashKv(local.hash)), kv.delete(workspaceKeyKv(workspaceId, local.id))]);
  await Promise.all([kv.delete(workspaceConfigKv(workspaceId)), kv.delete(workspaceKv(workspaceId))]);
}

/** Applies a sync answer; returns the new state (already stored) and what changed, for the log. */
export async function applySync(kv: ReplicaKv, state: ReplicaState, response: SyncResponse): Promise<{ state: ReplicaState; changed: string[]; dropped: string[] }> {
  const versions = { ...state.versions };
  const enrolled = new Set(response.enrolled);
  const dropped = Object.keys(versions).filter((id) => !enrolled.has(id));
  for (const id of dropped) {
    await dropWorkspace(kv, id);
    delete versions[id];
  }
  for (const snapshot of response.changed) {
    if (!enrolled.has(snapshot.id)) continue;
    await applySnapshot(kv, snapshot);
    versions[snapshot.id] = snapshot.version;
  }
  const next = { versions };
  await kv.put(REPLICA_STATE_KV, JSON.stringify(next));
  return { state: next, changed: response.changed.map((s) => s.id), dropped };
}

/** Forgets everything synced: a node whose token was revoked serves nothing it can no longer verify. */
export async function dropEverything(kv: ReplicaKv, state: ReplicaState): Promise<ReplicaState> {
  for (const id of Object.keys(state.versions)) await dropWorkspace(kv, id);
  const next = { versions: {} };
  await kv.put(REPLICA_STATE_KV, JSON.stringify(next));
  return next;
}
