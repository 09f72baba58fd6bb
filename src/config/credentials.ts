import { GatewayError } from "../lib/errors";
import type { SecretRef } from "./schema";

/**
 * Resolves a credential reference at request time. `{ env }` reads a Worker secret (locally `.dev.vars` or the
 * process environment); the error names the variable, never a value.
 */
export async function resolveSecret(env: Env, _workspaceId: string, ref: SecretRef, providerName: string): Promise<string> {
  if ("env" in ref) {
    const value: unknown = Reflect.get(env, ref.env);
    if (typeof value === "string" && value !== "") return value;
    throw new GatewayError({
      status: 500,
      type: "configuration_error",
      code: "credential_missing",
      provider: providerName,
      message: `Provider "${providerName}" needs the secret ${ref.env}, which is not set (wrangler secret put ${ref.env}; locally .dev.vars or the environment).`,
    });
  }
  throw new GatewayError({
    status: 500,
    type: "configuration_error",
    code: "credential_missing",
    provider: providerName,
    message: `Provider "${providerName}" refers to the stored credential "${ref.credential}", but stored credentials are not available.`,
  });
}
