import { GatewayError } from "../lib/errors";
import { TtlCache } from "../lib/ttl-cache";
import { getKey } from "../policy/keys";

/**
 * Which KeyLimiters a node may lease from: `ws:<workspaceId>` of an enrolled workspace, or `key:<keyId>` of a
 * key of one (looked up in each enrolled workspace, remembered briefly: one lookup per key per isolate per 2 s,
 * not per exchange). Anything else is refused before the limiter is touched, so a node cannot spend or read
 * another workspace's limits.
 */
const keyWorkspace = new TtlCache<string>({ ttlMs: 2_000, maxEntries: 10_000 });

const forbidden = (limiter: string) =>
  new GatewayError({ status: 403, type: "permission_error", code: "workspace_forbidden", message: `This node may not lease from "${limiter}": it belongs to no workspace the node is enrolled in.` });

export async function limiterWorkspace(env: Env, enrolled: readonly string[], limiter: string): Promise<string> {
  const [kind, id] = [limiter.slice(0, limiter.indexOf(":")), limiter.slice(limiter.indexOf(":") + 1)];
  if (kind === "ws") {
    if (!enrolled.includes(id)) throw forbidden(limiter);
    return id;
  }
  let workspaceId: string | null | undefined = keyWorkspace.get(id);
  if (workspaceId === undefined) {
    const found = await Promise.all(enrolled.map(async (ws) => ((await getKey(env, ws, id)) ? ws : null)));
    workspaceId = found.find((ws) => ws !== null) ?? null;
    if (workspaceId !== null) keyWorkspace.set(id, workspaceId);
  }
  if (workspaceId === null || !enrolled.includes(workspaceId)) throw forbidden(limiter);
  return workspaceId;
}

/** Leases granted to a node are held as `node:<token id>:<the node's own holder>`, whatever the body says. */
export const leaseHolderOf = (tokenId: string, holder: string): string => `node:${tokenId}:${holder}`.slice(0, 128);
