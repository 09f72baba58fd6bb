import * as z from "zod";
import { BudgetSchema, RateLimitSchema } from "./limit-schemas";

/**
 * A gateway key's stored record and its GATEWAY_KV entries (docs/storage.md): pure data, shared by the Worker
 * (./keys.ts) and the data plane's sync, which writes the same entries from its control plane (docs/hybrid.md).
 */

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

export const keyByHashKv = (hash: string) => `key:${hash}`;
export const workspaceKeyKv = (workspaceId: string, keyId: string) => `ws-key:${workspaceId}:${keyId}`;
export const workspaceKeysPrefix = (workspaceId: string) => `ws-key:${workspaceId}:`;
