import type { GatewayConfig } from "./config/schema";
import type { KeyRecord } from "./policy/keys";
import type { RequestRecord } from "./settle/record";
import type { ClientDialect } from "./schema/internal";

/** Per-request values set by middleware and read by handlers. */
export type AppVariables = {
  requestId: string;
  /** performance.now() when the request entered the gateway. */
  startedAt: number;
  dialect: ClientDialect;
  record: RequestRecord;
  workspaceId: string;
  config: GatewayConfig;
  key: KeyRecord;
  /** x-ratelimit-* headers of an admitted request, set by the key's limiter (src/policy/limits.ts). */
  limitHeaders?: Record<string, string>;
};

export type AppEnv = { Bindings: Env; Variables: AppVariables };
