import type { Miniflare } from "miniflare";
import {
  CONTROL_API_PREFIX,
  MAX_SHIPPED_EVENTS,
  SHIPPED_USAGE_COLUMNS,
  SYNC_INTERVAL_MS,
  ShippedUsageEventSchema,
  SyncResponseSchema,
  UsageReceiptSchema,
  type ShippedUsageEvent,
} from "../../src/hybrid/protocol.ts";
import { applySync, dropEverything, readReplicaState, type ReplicaKv, type ReplicaState } from "../../src/hybrid/replica.ts";

/**
 * A hybrid data plane's link to its control plane (docs/hybrid.md), run by `npm start -- --control-plane <url>`
 * beside workerd:
 * - sync: every second, the configs and key hashes of the node's workspaces that changed, into the local
 *   (persisted) GATEWAY_KV the Worker reads; unreachable → the last-known-good copy stays; the node token refused
 *   (401/403) → everything synced is dropped, so the node serves nothing it can no longer verify;
 * - usage: the usage rows the local Queue consumer wrote to the local D1 (the on-disk buffer), metadata columns
 *   only, shipped in order from a persisted cursor; the control plane writes each request id once, so a shipment
 *   repeated after a lost answer adds nothing.
 */

export type ControlLinkOptions = { controlPlane: URL; nodeToken: string; intervalMs?: number; log?: (line: string) => void };
export type ControlLink = { synced: Promise<void>; stop: () => Promise<void> };

/** The usage cursor (the last shipped `usage_events` rowid), beside the replica state in the local KV. */
const USAGE_CURSOR_KV = "hybrid:usage-shipped";
const REQUEST_TIMEOUT_MS = 4_000;

class RefusedByControlPlane extends Error {}

export async function startControlLink(mf: Miniflare, options: ControlLinkOptions): Promise<ControlLink> {
  const kv = (await mf.getKVNamespace("GATEWAY_KV")) as unknown as ReplicaKv;
  const db = await mf.getD1Database("USAGE_DB");
  const log = options.log ?? ((line: string) => console.log(`switchyard: ${line}`));
  const intervalMs = options.intervalMs ?? SYNC_INTERVAL_MS;
  let state: ReplicaState = await readReplicaState(kv);
  let reachable: boolean | undefined;
  let stopped = false;

  const call = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(new URL(`${CONTROL_API_PREFIX}${path}`, options.controlPlane), {
      method: "POST",
      headers: { authorization: `Bearer ${options.nodeToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status === 401 || response.status === 403) throw new RefusedByControlPlane(`the control plane refused the node token (${response.status})`);
    if (!response.ok) throw new Error(`control plane ${path}: HTTP ${response.status}`);
    return JSON.parse(text);
  };

  const syncOnce = async (): Promise<void> => {
    const answer = SyncResponseSchema.parse(await call("/sync", { known: state.versions }));
    const applied = await applySync(kv, state, answer);
    state = applied.state;
    if (applied.changed.length > 0) log(`synced ${applied.changed.join(", ")}`);
    if (applied.dropped.length > 0) log(`dropped ${applied.dropped.join(", ")} (no longer enrolled)`);
  };

  const shipOnce = async (): Promise<void> => {
    for (;;) {
      const cursor = Number((await kv.get(USAGE_CURSOR_KV)) ?? "0");
      const rows = await db
        .prepare(`SELECT rowid AS seq, ${SHIPPED_USAGE_COLUMNS.join(", ")} FROM usage_events WHERE rowid > ? ORDER BY rowid LIMIT ${MAX_SHIPPED_EVENTS}`)
        .bind(cursor)
        .all<Record<string, unknown>>();
      if (rows.results.length === 0) return;
      const events: ShippedUsageEvent[] = rows.results.map((row: Record<string, unknown>) => ShippedUsageEventSchema.parse(Object.fromEntries(SHIPPED_USAGE_COLUMNS.map((column) => [column, row[column]]))));
      UsageReceiptSchema.parse(await call("/usage", { events }));
      await kv.put(USAGE_CURSOR_KV, String(rows.results.at(-1)!["seq"]));
      if (rows.results.length < MAX_SHIPPED_EVENTS) return;
    }
  };

  // Sync and shipping run as two loops, so a slow usage shipment never delays a revocation.
  const syncTick = async (): Promise<void> => {
    try {
      await syncOnce();
      if (reachable !== true) log(`control plane ${options.controlPlane.origin} reachable`);
      reachable = true;
    } catch (error) {
      if (error instanceof RefusedByControlPlane) {
        if (Object.keys(state.versions).length > 0) log(`${error.message}: dropping every synced workspace`);
        state = await dropEverything(kv, state);
        reachable = false;
        return;
      }
      if (reachable !== false) log(`control plane unreachable (${error instanceof Error ? error.message : String(error)}): serving the last-known-good copy`);
      reachable = false;
    }
  };
  const shipTick = async (): Promise<void> => {
    // Failures are the sync loop's to report; unshipped rows stay in the local D1 until the next try.
    await shipOnce().catch(() => undefined);
  };
  const every = async (tick: () => Promise<void>) => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      if (!stopped) await tick();
    }
  };

  const synced = syncTick();
  const loop = (async () => {
    await synced;
    await Promise.all([every(syncTick), every(shipTick)]);
  })();
  return {
    synced,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
