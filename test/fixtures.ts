import type { GatewayConfigInput } from "../src/config/schema";

/** Values shared by the vitest config (Node) and the tests (workerd). */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

/** Provider keys the simulators accept (they take any key starting with `sk-sim`). */
export const TEST_PROVIDER_KEYS = {
  OPENAI_API_KEY: "sk-sim-openai-secret-value",
  ANTHROPIC_API_KEY: "sk-sim-anthropic-secret-value",
  GEMINI_API_KEY: "sk-sim-gemini-secret-value",
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
