import { spawn, spawnSync } from "node:child_process";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { configPath, loadConfigDocument } from "./config-source.ts";
import { watchDashboard } from "./runtime/dashboard.ts";
import { devSecretsFiles } from "./runtime/dev-secrets.ts";
import { simulatorsFor } from "./runtime/local-simulators.ts";

/**
 * `npm run dev [-- wrangler dev args]`: validates the config file, then runs `wrangler dev` (local storage,
 * no Cloudflare account) with the document as the `default` workspace's config. Extra arguments go to
 * wrangler (`npm run dev -- --port 8788`). Secrets: the local defaults of .dev.vars.example, overridden by .env,
 * .env.local and .dev.vars, and by the process environment with CLOUDFLARE_INCLUDE_PROCESS_ENV=true
 * (scripts/runtime/dev-secrets.ts). Passing `--env-file` yourself replaces all of that with wrangler's own rules.
 * When the config's providers point at the local simulators and nothing listens there, the simulators run in this
 * process for as long as the gateway. The dashboard's script is bundled and rebuilt when its sources change.
 */
const path = configPath();
const document = loadConfigDocument(path);
const extraArgs = process.argv.slice(2);
const ownEnvFiles = extraArgs.some((arg) => arg === "--env-file" || arg.startsWith("--env-file="));
const secretsFiles = ownEnvFiles ? [] : devSecretsFiles(process.cwd());
console.log(`switchyard: config ${path}`);
if (secretsFiles.length > 0) {
  const processEnv = process.env.CLOUDFLARE_INCLUDE_PROCESS_ENV === "true" ? ", then the process environment" : "";
  console.log(`switchyard: secrets from ${secretsFiles.map((file) => relative(process.cwd(), file)).join(", ")}${processEnv} (later ones win)`);
}
await simulatorsFor(document);
// wrangler's own launcher, run directly: through npx, a SIGTERM to this process would stop npm's shell but
// leave wrangler (and workerd) running.
const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
// The local usage database (D1) follows migrations/ before the Worker starts; CI=1 skips wrangler's confirmation.
spawnSync(process.execPath, [wrangler, "d1", "migrations", "apply", "switchyard-usage", "--local"], { stdio: "inherit", env: { ...process.env, CI: "1" } });

const stopDashboardWatch = await watchDashboard();

// SWITCHYARD_LOCAL_DEV lets the Worker accept the local default admin token (it refuses weak ones elsewhere).
const envFileArgs = secretsFiles.flatMap((file) => ["--env-file", file]);
const child = spawn(process.execPath, [wrangler, "dev", "--var", `DEFAULT_WORKSPACE_CONFIG:${document}`, "--var", "SWITCHYARD_LOCAL_DEV:true", ...envFileArgs, ...extraArgs], { stdio: "inherit" });
// The simulators (when started here) end with this process.
child.on("exit", (code, signal) => void stopDashboardWatch().finally(() => process.exit(signal ? 1 : (code ?? 0))));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
