import { policyFor } from "./compile";
import type { GuardrailsConfig } from "./schema";
import { RequestGuard } from "./request";

export { RequestGuard } from "./request";
export { GuardrailCountsSchema, GuardrailTally, type GuardrailCounts } from "./tally";

/** The guard of a request under its workspace's `guardrails` section (key, route, default), or none. */
export function requestGuardFor(guardrails: GuardrailsConfig | undefined, keyId: string | undefined, route: string | undefined): RequestGuard | undefined {
  const policy = policyFor(guardrails, keyId, route);
  return policy && (policy.input.length > 0 || policy.output.length > 0) ? new RequestGuard(policy) : undefined;
}
