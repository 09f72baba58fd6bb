import { GatewayError } from "../lib/errors";
import { TtlCache } from "../lib/ttl-cache";
import type { GatewayConfig } from "./schema";
import { parseConfig } from "./validate";

/** The workspace whose configuration comes from the config file (bundled as DEFAULT_WORKSPACE_CONFIG). */
export const DEFAULT_WORKSPACE = "default";

/** How long an isolate trusts its copy of a workspace config; admin changes are visible after this. */
const CONFIG_CACHE_TTL_MS = 5_000;

export const configKvKey = (workspaceId: string) => `ws-config:${workspaceId}`;

const configCache = new TtlCache<GatewayConfig | null>({ ttlMs: CONFIG_CACHE_TTL_MS, maxEntries: 1_000 });
let bundled: { source: string; config: GatewayConfig } | undefined;

function bundledDefault(env: Env): GatewayConfig | null {
  const source = env.DEFAULT_WORKSPACE_CONFIG;
  if (!source) return null;
  if (bundled?.source === source) return bundled.config;
  const parsed = parseConfig(source);
  if (!parsed.ok) {
    throw new GatewayError({
      status: 500,
      type: "configuration_error",
      code: "invalid_config",
      message: `The default workspace configuration is invalid: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    });
  }
  bundled = { source, config: parsed.config };
  return parsed.config;
}

/** Whether `config` is the config file's document (the operator's own), rather than one written through the admin API. */
export function isConfigFileDocument(config: GatewayConfig): boolean {
  return bundled !== undefined && bundled.config === config;
}

/**
 * The configuration of a workspace: the admin-managed document in KV when there is one, else (for `default`)
 * the bundled config file. `null` when the workspace has none.
 */
export async function loadWorkspaceConfig(env: Env, workspaceId: string): Promise<GatewayConfig | null> {
  return configCache.getOrLoad(workspaceId, async () => {
    const stored = await env.GATEWAY_KV.get(configKvKey(workspaceId));
    if (stored !== null) {
      const parsed = parseConfig(stored);
      if (parsed.ok) return parsed.config;
      throw new GatewayError({ status: 500, type: "configuration_error", code: "invalid_config", message: `The configuration of workspace "${workspaceId}" is invalid.` });
    }
    return workspaceId === DEFAULT_WORKSPACE ? bundledDefault(env) : null;
  });
}

export async function saveWorkspaceConfig(env: Env, workspaceId: string, config: GatewayConfig): Promise<void> {
  await env.GATEWAY_KV.put(configKvKey(workspaceId), JSON.stringify(config));
  configCache.set(workspaceId, config);
}

export function forgetWorkspaceConfig(workspaceId: string): void {
  configCache.delete(workspaceId);
}
