import type { GatewayConfigInput } from "../src/config/schema";

/** Values shared by the vitest config (Node) and the tests (workerd). */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

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
  ...TEST_AWS_CREDENTIALS,
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
