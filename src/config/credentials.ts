import { GatewayError } from "../lib/errors";
import { readCredential } from "./credential-store";
import type { SecretRef } from "./schema";
import { envSecretRefusal, secretRulesOf } from "./secret-rules";

/** The config cannot be served as it stands: the operator's (or the workspace admin's) to fix, not the client's. */
const unusable = (providerName: string, code: string, message: string) =>
  new GatewayError({ status: 503, type: "configuration_error", code, provider: providerName, message });

/**
 * Resolves a credential reference at request time. `{ env }` reads a Worker secret (locally `.dev.vars` or the
 * process environment) if this workspace may name it (src/config/secret-rules.ts); `{ credential }` decrypts one
 * stored through the admin API for this workspace only. Errors name the variable or credential, never a value.
 */
export async function resolveSecret(env: Env, workspaceId: string, ref: SecretRef, providerName: string): Promise<string> {
  if ("env" in ref) {
    const refusal = envSecretRefusal(secretRulesOf(env), workspaceId, ref.env);
    if (refusal !== undefined) throw unusable(providerName, "secret_not_allowed", `Provider "${providerName}" may not use the secret ${ref.env}: ${refusal}.`);
    const value: unknown = Reflect.get(env, ref.env);
    if (typeof value === "string" && value !== "") return value;
    throw unusable(providerName, "credential_missing", `Provider "${providerName}" needs the secret ${ref.env}, which is not set (wrangler secret put ${ref.env}; locally .dev.vars or the environment).`);
  }
  const value = await readCredential(env, workspaceId, ref.credential);
  if (value !== null && value !== "") return value;
  throw unusable(
    providerName,
    "credential_missing",
    `Provider "${providerName}" refers to the stored credential "${ref.credential}", which workspace "${workspaceId}" does not have (PUT /admin/workspaces/${workspaceId}/credentials/${ref.credential}).`,
  );
}
