import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_GOOGLE_SECRETS } from "./test/simulators/google-test-keys.ts";
import { TEST_ADMIN_TOKEN, TEST_GATEWAY_DOMAIN, TEST_MASTER_KEYS, TEST_PROVIDER_KEYS, TEST_SECRET_RULES, defaultTestConfig } from "./test/fixtures.ts";
import { buildDashboard } from "./scripts/runtime/dashboard.ts";

// D1 migrations (migrations/) are read here in Node and applied inside workerd by test/setup/d1.ts.
const usageMigrations = await readD1Migrations("./migrations");
// The Worker imports the dashboard's bundled script as text: build it before the Worker loads.
await buildDashboard();

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          ...TEST_PROVIDER_KEYS,
          ...TEST_GOOGLE_SECRETS,
          ...TEST_MASTER_KEYS,
          GATEWAY_DOMAIN: TEST_GATEWAY_DOMAIN,
          ...TEST_SECRET_RULES,
          DEFAULT_WORKSPACE_CONFIG: JSON.stringify(defaultTestConfig(inject("simulatorOrigin"))),
          TEST_MIGRATIONS: usageMigrations,
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    setupFiles: ["./test/setup/d1.ts"],
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
