import { matchesAny, matchesPattern, namePatterns, type NamePattern } from "./name-patterns";

/**
 * Which Worker secrets a config may name as `{ "env": NAME }`. A config sends the named value to a URL of its
 * choosing, so it may only ever name provider secrets:
 *
 * - never the gateway's own secrets and settings (below), whatever the operator lists;
 * - only names on the operator's allow-list, PROVIDER_SECRETS (wrangler.toml `[vars]`);
 * - for any workspace but `default`, only names the operator granted it in WORKSPACE_ENV_SECRETS
 *   (`search=OPENAI_API_KEY,GROQ_*; ml-*=PROVIDER_ML_*`). Stored credentials need no grant: a workspace can
 *   only ever read its own.
 *
 * The rules are checked when a config is written (admin API, `npm run dev` / `start` / `deploy`) and again
 * whenever a secret is resolved for an upstream call.
 */

/**
 * The gateway's own secrets and settings. A new gateway secret is added here, or named with one of the reserved
 * prefixes below; either way no config can ever reach it.
 */
export const GATEWAY_SECRET_NAMES = [
  "ADMIN_TOKEN",
  "MASTER_KEY",
  "MASTER_KEY_ID",
  "MASTER_KEYS_PREVIOUS",
  "DEFAULT_WORKSPACE_CONFIG",
  "GATEWAY_DOMAIN",
  "PROVIDER_SECRETS",
  "WORKSPACE_ENV_SECRETS",
  "ALLOW_PRIVATE_UPSTREAMS",
] as const;

/** Prefixes reserved for the gateway (and wrangler's CLOUDFLARE_ variables, present when the process environment is). */
export const GATEWAY_SECRET_PREFIXES = ["ADMIN_", "MASTER_KEY", "SWITCHYARD_", "CLOUDFLARE_"] as const;

const GATEWAY_OWN: NamePattern[] = [...GATEWAY_SECRET_NAMES.map((exact) => ({ exact })), ...GATEWAY_SECRET_PREFIXES.map((prefix) => ({ prefix }))];

/** The one workspace whose configs need no grant: the operator's own, configured by the config file. */
const OPERATOR_WORKSPACE = "default";

export type SecretRules = { allowed: NamePattern[]; grants: { workspace: NamePattern; names: NamePattern[] }[] };

/** Parses PROVIDER_SECRETS and WORKSPACE_ENV_SECRETS (`workspace=NAME,NAME; other-*=PREFIX_*`). */
export function parseSecretRules(settings: { providerSecrets: string; workspaceGrants: string }): SecretRules {
  const grants = settings.workspaceGrants
    .split(/[;\n]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry.includes("="))
    .flatMap((entry) => {
      const at = entry.indexOf("=");
      const [workspace] = namePatterns(entry.slice(0, at));
      return workspace ? [{ workspace, names: namePatterns(entry.slice(at + 1)) }] : [];
    });
  return { allowed: namePatterns(settings.providerSecrets), grants };
}

let parsed: { providerSecrets: string; workspaceGrants: string; rules: SecretRules } | undefined;

/** The deployment's rules (its `[vars]`), parsed once per isolate and again only if the settings change. */
export function secretRulesOf(settings: { PROVIDER_SECRETS?: string; WORKSPACE_ENV_SECRETS?: string }): SecretRules {
  const providerSecrets = settings.PROVIDER_SECRETS ?? "";
  const workspaceGrants = settings.WORKSPACE_ENV_SECRETS ?? "";
  if (parsed === undefined || parsed.providerSecrets !== providerSecrets || parsed.workspaceGrants !== workspaceGrants) {
    parsed = { providerSecrets, workspaceGrants, rules: parseSecretRules({ providerSecrets, workspaceGrants }) };
  }
  return parsed.rules;
}

export const isGatewaySecret = (name: string): boolean => matchesAny(GATEWAY_OWN, name);

/** Why a config of `workspaceId` may not name the Worker secret `name`, or undefined when it may. */
export function envSecretRefusal(rules: SecretRules, workspaceId: string, name: string): string | undefined {
  if (isGatewaySecret(name)) return `${name} is one of the gateway's own secrets; a config may only name provider secrets`;
  if (!matchesAny(rules.allowed, name)) return `${name} is not a provider secret this deployment allows (PROVIDER_SECRETS in wrangler.toml)`;
  if (workspaceId === OPERATOR_WORKSPACE) return undefined;
  const granted = rules.grants.some((grant) => matchesPattern(grant.workspace, workspaceId) && matchesAny(grant.names, name));
  if (granted) return undefined;
  return `workspace "${workspaceId}" is not granted the secret ${name} (WORKSPACE_ENV_SECRETS); store the provider key as a credential of the workspace instead`;
}
