import type { GatewayConfig } from "../config/schema";
import { policyFor } from "./compile";
import { RequestGuard } from "./request";

export { RequestGuard } from "./request";
export { GuardrailCountsSchema, GuardrailTally, type GuardrailCounts } from "./tally";

/** The guard of a request under its workspace's guardrails (key, route, default), or none. */
export function requestGuardFor(config: GatewayConfig, keyId: string | undefined, route: string | undefined): RequestGuard | undefined {
  const policy = policyFor(config.guardrails, keyId, route);
  return policy && (policy.input.length > 0 || policy.output.length > 0) ? new RequestGuard(policy) : undefined;
}
