import * as z from "zod";
import { KeyRecordSchema } from "../policy/key-record";
import { WorkspaceSchema } from "../policy/workspace-record";

/**
 * The control-plane API's wire format (docs/hybrid.md), shared by the control plane (src/api/control/) and the
 * data plane's sync and shipping loops (scripts/runtime/hybrid/). Every message is parsed with these schemas on
 * both sides.
 */

/** The control-plane API's path prefix. */
export const CONTROL_API_PREFIX = "/control/v1";

/**
 * How often a data plane asks for changes. With a data plane's isolate caches of keys and configs (1 s) and the sync's own
 * round trip, a change made on the control plane is live on every data plane within 5 s.
 */
export const SYNC_INTERVAL_MS = 500;

/** What the data plane has: each synced workspace's version (the digest of its snapshot). */
export const SyncRequestSchema = z.strictObject({
  known: z.record(z.string().max(63), z.string().regex(/^[0-9a-f]{64}$/)).refine((m) => Object.keys(m).length <= 1_000, "at most 1000 workspaces"),
});
export type SyncRequest = z.infer<typeof SyncRequestSchema>;

/** One workspace as a data plane serves it: the workspace, its config document (null: none) and its keys' hashed records. */
export const WorkspaceSnapshotSchema = z.object({
  id: z.string(),
  version: z.string().describe("SHA-256 of the snapshot's content: unchanged content, unchanged version."),
  workspace: WorkspaceSchema,
  config: z.string().nullable().describe("The config document (JSON text), credentials and secrets as references only."),
  keys: z.array(KeyRecordSchema),
});
export type WorkspaceSnapshot = z.infer<typeof WorkspaceSnapshotSchema>;

/**
 * The answer to a sync: the workspaces the node is enrolled in (any other it holds must go) and the snapshots of
 * those whose version differs from what it sent (the rest are unchanged, so a quiet poll carries no content).
 */
export const SyncResponseSchema = z.object({
  enrolled: z.array(z.string()),
  changed: z.array(WorkspaceSnapshotSchema),
});
export type SyncResponse = z.infer<typeof SyncResponseSchema>;

/**
 * One usage event as it leaves a data plane: metadata only (tokens, cost, latency, status, attempts, cache and
 * routing facts), the row of `usage_events` (migrations/0001, 0004). Prompts and responses (`usage_bodies`) never do.
 */
export const ShippedUsageEventSchema = z.strictObject({
  request_id: z.string().min(1).max(200),
  client_request_id: z.string().max(512).nullable(),
  ts: z.number().int(),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  workspace_id: z.string().max(63),
  key_id: z.string().max(200).nullable(),
  route: z.string().max(512).nullable(),
  operation: z.string().max(64),
  provider: z.string().max(512).nullable(),
  model: z.string().max(512).nullable(),
  attempts: z.string().max(64_000).describe("JSON: [{ provider, model, status, outcome, latencyMs, errorClass? }]"),
  attempt_count: z.number().int().nonnegative(),
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  cached_tokens: z.number().int().nonnegative(),
  cache_write_tokens: z.number().int().nonnegative(),
  reasoning_tokens: z.number().int().nonnegative(),
  usage_estimated: z.number().int(),
  cost_usd: z.number().nullable(),
  cache_status: z.string().max(16).nullable(),
  saved_tokens: z.number().int(),
  saved_usd: z.number().nullable(),
  coalesced: z.number().int(),
  stream: z.number().int(),
  ttfb_ms: z.number().nullable(),
  total_ms: z.number(),
  overhead_ms: z.number(),
  status: z.number().int(),
  outcome: z.string().max(32),
  error_type: z.string().max(200).nullable(),
  rescued: z.number().int(),
  delivery_attempts: z.number().int(),
  batch_id: z.string().max(200).nullable(),
});
export type ShippedUsageEvent = z.infer<typeof ShippedUsageEventSchema>;
export const SHIPPED_USAGE_COLUMNS = Object.keys(ShippedUsageEventSchema.shape) as (keyof ShippedUsageEvent)[];

/** Events shipped per call: D1 binds at most 100 parameters per statement, so each event is its own statement. */
export const MAX_SHIPPED_EVENTS = 200;

export const UsageShipmentSchema = z.strictObject({ events: z.array(ShippedUsageEventSchema).min(1).max(MAX_SHIPPED_EVENTS) });
export type UsageShipment = z.infer<typeof UsageShipmentSchema>;

export const UsageReceiptSchema = z.object({ received: z.number().int(), inserted: z.number().int() });
export type UsageReceipt = z.infer<typeof UsageReceiptSchema>;
