import { exports } from "cloudflare:workers";
import { admin } from "../helpers";

/** A key with a policy (limits, budget, routes, expiry) in an existing workspace. */
export async function addKey(workspaceId: string, body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await admin(`/workspaces/${workspaceId}/keys`, { method: "POST", body: JSON.stringify({ name: "limited", ...body }) });
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; key: string };
}

export const hello = (content = "Hi", extra: Record<string, unknown> = {}) => ({ model: "smart", messages: [{ role: "user", content }], ...extra });

/** A chat request to an arbitrary host (per-workspace subdomains). */
export const chatOnHost = (host: string, key: string, body: unknown = hello(), headers: Record<string, string> = {}) =>
  exports.default.fetch(
    new Request(`http://${host}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) }),
  );

export type LimiterSnapshot = { requestsInWindow: number; tokensInWindow: number; reservations: number; reservedUsd: number; openLeases: number; holders: number; exchanges: number; spend: { periodKey: string; usd: number }[] };

/** The key's limiter state once `ready` holds (settlement runs in waitUntil, after the response). */
export async function limiterWhen(workspaceId: string, keyId: string, ready: (snapshot: LimiterSnapshot) => boolean): Promise<LimiterSnapshot> {
  for (let i = 0; i < 200; i++) {
    const snapshot = (await (await admin(`/workspaces/${workspaceId}/keys/${keyId}/limits`)).json()) as LimiterSnapshot;
    if (ready(snapshot)) return snapshot;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the limiter never reached the expected state");
}

/** The key's limiter state once every admitted request has settled its reservation. */
export const settledLimiter = (workspaceId: string, keyId: string) => limiterWhen(workspaceId, keyId, (s) => s.reservations === 0);

export type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };
