import type { RequestRecord } from "../pipeline/record";

/**
 * One log line per request whose guardrails flagged, redacted or blocked something: the rules and their counts,
 * never the text they matched.
 */
export function logGuardrailOutcome(record: RequestRecord): void {
  const tally = record.guardrails;
  if (!tally || tally.empty) return;
  const rules = tally.toJSON();
  const blocked = Object.values(rules).some((counts) => counts.blocked > 0);
  console.log(JSON.stringify({ level: blocked ? "warn" : "info", message: "guardrails", requestId: record.requestId, workspaceId: record.workspaceId, keyId: record.keyId ?? null, rules }));
}
