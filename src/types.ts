import type { GatewayConfig } from "./config/schema";
import type { RequestGuard } from "./guardrails";
import type { AdminIdentity } from "./policy/admin-access";
import type { BatchLineCaller } from "./policy/batch-line-caller";
import type { KeyRecord } from "./policy/keys";
import type { RequestRecord } from "./settle/record";
import type { Redactor } from "./lib/redact";
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
  /** The provider secrets this request handed to upstreams: scrubbed from every error and log line it produces. */
  redactor: Redactor;
  workspaceId: string;
  config: GatewayConfig;
  key: KeyRecord;
  /** Who is calling the admin API (set by adminAuth on /admin/*). */
  admin: AdminIdentity;
  /** x-ratelimit-* headers of an admitted request, set by the key's limiter (src/policy/limits.ts). */
  limitHeaders?: Record<string, string>;
  /** The request's guardrails, when its workspace's policy has any (src/guardrails/): the answer passes through them. */
  guard?: RequestGuard;
  /** Set when the request is a line of a gateway-run batch (src/policy/batch-line-caller.ts): background priority, usage keyed by batch and line. */
  batchLine?: BatchLineCaller;
};

export type AppEnv = { Bindings: Env; Variables: AppVariables };
