import type { GuardrailTally } from "./tally";

/**
 * One log line per request whose guardrails flagged, redacted or blocked something: the rules and their counts,
 * never the text they matched.
 */
export function logGuardrailOutcome(tally: GuardrailTally, request: { requestId: string; workspaceId: string | undefined; keyId: string | undefined }): void {
  if (tally.empty) return;
  const rules = tally.toJSON();
  const blocked = Object.values(rules).some((counts) => counts.blocked > 0);
  console.log(JSON.stringify({ level: blocked ? "warn" : "info", message: "guardrails", requestId: request.requestId, workspaceId: request.workspaceId ?? null, keyId: request.keyId ?? null, rules }));
}
