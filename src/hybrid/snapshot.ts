import { loadWorkspaceConfig } from "../config/store";
import { sha256Hex } from "../lib/crypto";
import { listKeys } from "../policy/keys";
import { getWorkspace } from "../policy/workspaces";
import type { SyncRequest, SyncResponse, WorkspaceSnapshot } from "./protocol";

/**
 * What a data plane needs of one workspace, read from the control plane's own storage: the workspace, its config
 * as loaded (the config file's document for `default` unless the admin API replaced it) and its keys' records
 * (hashes only; a key never exists in clear anywhere). Stored provider credentials stay here: a data plane's
 * configs name its own secrets (`{ "env": … }`). Null when the workspace does not exist (any more).
 */
export async function workspaceSnapshot(env: Env, workspaceId: string): Promise<WorkspaceSnapshot | null> {
  const workspace = await getWorkspace(env, workspaceId);
  if (!workspace) return null;
  const [config, keys] = await Promise.all([loadWorkspaceConfig(env, workspaceId), listKeys(env, workspaceId)]);
  const content = { workspace, config: config === null ? null : JSON.stringify(config), keys };
  return { id: workspaceId, version: await sha256Hex(JSON.stringify(content)), ...content };
}

/** A node's sync: its enrolled workspaces, and the snapshot of each one whose version it does not have. */
export async function syncFor(env: Env, enrolled: readonly string[], request: SyncRequest): Promise<SyncResponse> {
  const snapshots = await Promise.all(enrolled.map((id) => workspaceSnapshot(env, id)));
  const present = snapshots.filter((s): s is WorkspaceSnapshot => s !== null);
  return { enrolled: present.map((s) => s.id), changed: present.filter((s) => request.known[s.id] !== s.version) };
}
