import type { GatewayConfig } from "./config/schema";
import type { RequestGuard } from "./guardrails";
import type { KeyRecord } from "./policy/keys";
import type { RequestRecord } from "./pipeline/record";
import type { ClientDialect } from "./schema/internal";
import type { Presentation } from "./dialects/presentation";

/** Per-request values set by middleware and read by handlers. */
export type AppVariables = {
  requestId: string;
  /** performance.now() when the request entered the gateway. */
  startedAt: number;
  dialect: ClientDialect;
  /** The answer's presentation when the API brings its own (the Responses API); else the dialect's. */
  presentation?: Presentation;
  record: RequestRecord;
  workspaceId: string;
  config: GatewayConfig;
  key: KeyRecord;
  /** x-ratelimit-* headers of an admitted request, set by the key's limiter (src/policy/limits.ts). */
  limitHeaders?: Record<string, string>;
  /** The request's guardrails, when its workspace's policy has any (src/guardrails/): the answer passes through them. */
  guard?: RequestGuard;
};

export type AppEnv = { Bindings: Env; Variables: AppVariables };
