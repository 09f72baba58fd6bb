import type { GatewayConfigInput } from "../src/config/schema";

/** Values shared by the vitest config (Node) and the tests (workerd). */
/** Long enough to be accepted outside local development (tests run the Worker as deployed: no SWITCHYARD_LOCAL_DEV). */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789-abcdefghij";

/** The AWS credentials the Bedrock simulator knows; AWS_WRONG_SECRET is a well-formed secret it does not. */
export const TEST_AWS_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIASIMULATOR0000001",
  AWS_SECRET_ACCESS_KEY: "sim-bedrock-secret/0123456789abcdefghijklmnopqrstuv",
  AWS_WRONG_SECRET: "sim-bedrock-wrong/9876543210zyxwvutsrqponmlkjihgfe",
  AWS_SESSION_TOKEN: "sim-session-token-FwoGZXIvYXdzEBYaDH",
};

/** Provider keys the simulators accept (they take any key starting with `sk-sim`). */
export const TEST_PROVIDER_KEYS = {
  OPENAI_API_KEY: "sk-sim-openai-secret-value",
  ANTHROPIC_API_KEY: "sk-sim-anthropic-secret-value",
  GEMINI_API_KEY: "sk-sim-gemini-secret-value",
  AZURE_API_KEY: "sk-sim-azure-secret-value",
  COMPAT_API_KEY: "sk-sim-compat-secret-value",
  /** The Microsoft Entra client secret the Azure Resource Manager simulator accepts (tuned-model deployments). */
  AZURE_CLIENT_SECRET: "sim-entra-client-secret~0123456789abcdef",
  ...TEST_AWS_CREDENTIALS,
};

/**
 * The operator's rules in tests (src/config/secret-rules.ts, upstream-addresses.ts): the test provider keys are
 * provider secrets; `t-` workspaces (every helper-made one) are granted all of them and may reach the simulators
 * on 127.0.0.1, `granted-` ones only OPENAI_API_KEY; any other workspace gets nothing, as in production.
 * UNLISTED_SECRET is a Worker secret no list names.
 */
export const TEST_SECRET_RULES = {
  PROVIDER_SECRETS: [...Object.keys(TEST_PROVIDER_KEYS), "VERTEX_SERVICE_ACCOUNT", "VERTEX_ROGUE_SERVICE_ACCOUNT", "GROQ_API_KEY", "K", "NOT_SET_ANYWHERE_KEY"].join(","),
  WORKSPACE_ENV_SECRETS: "t-*=*; granted-*=OPENAI_API_KEY",
  ALLOW_PRIVATE_UPSTREAMS: "default, t-*, granted-*",
  UNLISTED_SECRET: "unlisted-secret-value-0123456789",
};

/** The domain tests reach per-workspace subdomains under (`<workspace>.gateway.test`). */
export const TEST_GATEWAY_DOMAIN = "gateway.test";

/**
 * Master keys for stored credentials: the current one (id k2) and a previous one (id k1) that only decrypts,
 * so rotation can be tested. Fixed test values, 32 bytes each.
 */
export const TEST_PREVIOUS_MASTER_KEY = { id: "k1", key: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=" };
export const TEST_MASTER_KEYS = {
  MASTER_KEY: "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
  MASTER_KEY_ID: "k2",
  MASTER_KEYS_PREVIOUS: `${TEST_PREVIOUS_MASTER_KEY.id}:${TEST_PREVIOUS_MASTER_KEY.key}`,
};

/** The `default` workspace's config in tests: both simulators, and one route. */
export function defaultTestConfig(simulatorOrigin: string): GatewayConfigInput {
  return {
    providers: {
      openai: { type: "openai", baseURL: `${simulatorOrigin}/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
      anthropic: { type: "anthropic", baseURL: `${simulatorOrigin}/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } },
    },
    routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
  };
}
