import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** The D1 migrations, passed in by vitest.config.ts (test-only binding). */
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
