import { env } from "cloudflare:workers";
import type { GatewayConfigInput } from "../../src/config/schema";
import { admin, simulatorOrigin } from "../helpers";

export type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

const randomSuffix = () => Math.random().toString(36).slice(2, 10);

/**
 * A workspace whose id starts with `prefix`. The test bindings (vitest.config.ts) grant by prefix: `t-` workspaces
 * every provider secret and private addresses, `granted-` only OPENAI_API_KEY (and private addresses), anything
 * else nothing — as a production deployment treats workspaces the operator has not listed.
 */
export async function workspaceNamed(prefix: string): Promise<{ id: string; scenario: string }> {
  const id = `${prefix}${randomSuffix()}`;
  const res = await admin("/workspaces", { method: "POST", body: JSON.stringify({ id, name: id }) });
  if (res.status !== 201) throw new Error(`creating workspace ${id} failed: ${res.status} ${await res.text()}`);
  return { id, scenario: `sc-${randomSuffix()}` };
}

export const putConfig = (workspaceId: string, config: GatewayConfigInput | Record<string, unknown>) =>
  admin(`/workspaces/${workspaceId}/config`, { method: "PUT", body: JSON.stringify(config) });

/** Stores a config as if it had been written before today's rules: straight into KV, past the admin API's checks. */
export const storeConfigBehindTheAdminAPI = (workspaceId: string, config: Record<string, unknown>) => env.GATEWAY_KV.put(`ws-config:${workspaceId}`, JSON.stringify(config));

export async function keyFor(workspaceId: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await admin(`/workspaces/${workspaceId}/keys`, { method: "POST", body: JSON.stringify({ name: "sec", ...body }) });
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

export const openAIProvider = (scenario: string, apiKey: Record<string, string>) => ({ type: "openai", baseURL: `${simulatorOrigin()}/s/${scenario}/openai/v1`, apiKey });

export const hello = (model = "openai/gpt-4o-mini", extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user", content: "Hi" }], ...extra });

/** Every way a secret may be copied into a message: as is, base64 (also inside a longer encoding), base64url, URL-encoded. */
export function copiesOf(secret: string): string[] {
  const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  return [secret, b64(secret), b64(secret).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), b64(`Bearer ${secret}`), b64(`user:${secret}`), encodeURIComponent(secret)];
}
