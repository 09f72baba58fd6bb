import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Every test file gets its own storage: bring its D1 database to the schema in migrations/ (idempotent).
await applyD1Migrations(env.USAGE_DB, env.TEST_MIGRATIONS);
