import { GatewayError } from "../lib/errors";
import { readCredential } from "./credential-store";
import type { SecretRef } from "./schema";

const missing = (providerName: string, message: string) =>
  new GatewayError({ status: 500, type: "configuration_error", code: "credential_missing", provider: providerName, message });

/**
 * Resolves a credential reference at request time. `{ env }` reads a Worker secret (locally `.dev.vars` or the
 * process environment); `{ credential }` decrypts one stored through the admin API for this workspace only.
 * Errors name the variable or credential, never a value.
 */
export async function resolveSecret(env: Env, workspaceId: string, ref: SecretRef, providerName: string): Promise<string> {
  if ("env" in ref) {
    const value: unknown = Reflect.get(env, ref.env);
    if (typeof value === "string" && value !== "") return value;
    throw missing(providerName, `Provider "${providerName}" needs the secret ${ref.env}, which is not set (wrangler secret put ${ref.env}; locally .dev.vars or the environment).`);
  }
  const value = await readCredential(env, workspaceId, ref.credential);
  if (value !== null && value !== "") return value;
  throw missing(providerName, `Provider "${providerName}" refers to the stored credential "${ref.credential}", which workspace "${workspaceId}" does not have (PUT /admin/workspaces/${workspaceId}/credentials/${ref.credential}).`);
}
