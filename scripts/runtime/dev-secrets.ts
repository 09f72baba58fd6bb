import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The secrets files `npm run dev` hands wrangler (`--env-file`), lowest precedence first: the local defaults in
 * .dev.vars.example (admin token, master key, simulator keys), then the user's .env, .env.local and .dev.vars.
 * Passed as env files, they go through wrangler's dotenv loader, which adds the process environment on top when
 * CLOUDFLARE_INCLUDE_PROCESS_ENV=true — wrangler ignores the process environment whenever it reads .dev.vars on
 * its own, so the defaults are never copied into a .dev.vars.
 */
export const DEV_SECRETS_FILES = [".dev.vars.example", ".env", ".env.local", ".dev.vars"] as const;

export function devSecretsFiles(projectRoot: string): string[] {
  return DEV_SECRETS_FILES.map((file) => join(projectRoot, file)).filter((path) => existsSync(path));
}
