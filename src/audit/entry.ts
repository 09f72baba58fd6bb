import * as z from "zod";
import { canonicalJson } from "../cache/key";
import { sha256Hex } from "../lib/crypto";
import { AdminRoleSchema } from "../policy/admin-access";
import { AuditActionSchema, AuditTargetTypeSchema } from "./actions";

/**
 * One audit entry: who changed what, when, and a fingerprint of the target before and after. Callers hand in
 * the target's public form (what the admin API shows: a key without its hash, a credential's metadata, a config
 * with its env and credential references), so no secret can reach the log; only its hash and the names of the
 * fields that changed are kept.
 */
export const AuditEntrySchema = z.object({
  id: z.string(),
  time: z.iso.datetime(),
  actor: z.object({ id: z.string().describe("The admin token's id, or ADMIN_TOKEN."), name: z.string(), role: AdminRoleSchema }),
  action: AuditActionSchema,
  target: z.object({ type: AuditTargetTypeSchema, id: z.string(), workspaceId: z.string().nullable() }),
  beforeHash: z.string().nullable().describe("sha256:<hex> of the target's canonical JSON before the change; null if it did not exist."),
  afterHash: z.string().nullable().describe("The same after the change; null once deleted."),
  changedFields: z.array(z.string()).describe("Top-level fields whose value changed (names only)."),
  requestId: z.string(),
  clientAddress: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** `sha256:<hex>` of a state's canonical JSON (keys sorted), or null when there is no state. */
export async function stateHash(state: unknown): Promise<string | null> {
  return state === undefined || state === null ? null : `sha256:${await sha256Hex(canonicalJson(state))}`;
}

const fieldsOf = (state: unknown): Record<string, unknown> => (typeof state === "object" && state !== null && !Array.isArray(state) ? (state as Record<string, unknown>) : {});

/** Names of the top-level fields that were added, removed or changed between two states. */
export function changedFields(before: unknown, after: unknown): string[] {
  const a = fieldsOf(before);
  const b = fieldsOf(after);
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((name) => (a[name] === undefined ? undefined : canonicalJson(a[name])) !== (b[name] === undefined ? undefined : canonicalJson(b[name]))).sort();
}
