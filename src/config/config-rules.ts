import { PRESETS } from "../providers/openai-compatible/presets";
import { SecretRefSchema, type GatewayConfig, type ProviderConfig, type SecretRef } from "./schema";
import { envSecretRefusal, type SecretRules } from "./secret-rules";
import { upstreamURLProblem } from "./upstream-addresses";

/**
 * The rules a config document must follow beyond its schema, because they depend on where it is written: which
 * Worker secrets it may name, which stored credentials exist, which addresses it may reach. Checked when a config
 * is written through the admin API (a 400 naming the first bad field); the request path checks the same rules
 * again as each secret is resolved and each upstream called.
 */

export type RuleIssue = { path: string; code: "secret_not_allowed" | "credential_not_found" | "upstream_address_not_allowed"; message: string };

/** Every secret reference of a provider, with its path: direct fields (`apiKey`, `serviceAccount`, …) and header values. */
export function secretRefsOf(provider: ProviderConfig): { path: string[]; ref: SecretRef }[] {
  const found: { path: string[]; ref: SecretRef }[] = [];
  for (const [field, value] of Object.entries(provider)) {
    const ref = SecretRefSchema.safeParse(value);
    if (ref.success) found.push({ path: [field], ref: ref.data });
  }
  if (provider.type === "openai-compatible") {
    for (const [name, value] of Object.entries(provider.headers ?? {})) if (typeof value !== "string") found.push({ path: ["headers", name], ref: value });
  }
  return found;
}

/** Every address a provider names, with the field that names it: its URL fields, or the preset whose URL it uses. */
export function addressesOf(provider: ProviderConfig): { path: string[]; url: string }[] {
  const found: { path: string[]; url: string }[] = [];
  for (const [field, value] of Object.entries(provider)) if (field.endsWith("URL") && typeof value === "string") found.push({ path: [field], url: value });
  if (provider.type === "openai-compatible" && provider.baseURL === undefined && provider.preset) found.push({ path: ["preset"], url: PRESETS[provider.preset].baseURL });
  return found;
}

export type RuleContext = {
  workspaceId: string;
  secretRules: SecretRules;
  /** The operator lets this workspace reach private, loopback and link-local addresses. */
  privateAddresses: boolean;
  /** The names of the workspace's stored credentials. */
  credentials: ReadonlySet<string>;
};

export function configRuleIssues(config: GatewayConfig, context: RuleContext): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const [name, provider] of Object.entries(config.providers)) {
    const at = (path: string[]) => ["providers", name, ...path].join(".");
    for (const { path, ref } of secretRefsOf(provider)) {
      if ("env" in ref) {
        const refusal = envSecretRefusal(context.secretRules, context.workspaceId, ref.env);
        if (refusal !== undefined) issues.push({ path: at([...path, "env"]), code: "secret_not_allowed", message: refusal });
      } else if (!context.credentials.has(ref.credential)) {
        issues.push({
          path: at([...path, "credential"]),
          code: "credential_not_found",
          message: `workspace "${context.workspaceId}" has no stored credential "${ref.credential}" (PUT /admin/workspaces/${context.workspaceId}/credentials/${ref.credential} first)`,
        });
      }
    }
    for (const { path, url } of addressesOf(provider)) {
      const problem = upstreamURLProblem(url, { privateAllowed: context.privateAddresses });
      if (problem !== undefined) issues.push({ path: at(path), code: "upstream_address_not_allowed", message: `${url} ${problem}` });
    }
  }
  return issues;
}
