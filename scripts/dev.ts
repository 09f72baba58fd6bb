import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { configPath, loadConfigDocument } from "./config-source.ts";
import { watchDashboard } from "./runtime/dashboard.ts";

/**
 * `npm run dev [-- wrangler dev args]`: validates the config file, then runs `wrangler dev` (local storage,
 * no Cloudflare account) with the document as the `default` workspace's config. Extra arguments go to
 * wrangler (`npm run dev -- --port 8788`). A missing .dev.vars is created from .dev.vars.example so the local
 * defaults (admin token, simulator keys) work out of the box. The dashboard's script is bundled and rebuilt when
 * its sources change.
 */
const path = configPath();
const document = loadConfigDocument(path);
if (!existsSync(".dev.vars") && existsSync(".dev.vars.example")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("switchyard: created .dev.vars from .dev.vars.example (local secrets; edit it to add real provider keys)");
}
console.log(`switchyard: config ${path}`);
// The local usage database (D1) follows migrations/ before the Worker starts; CI=1 skips wrangler's confirmation.
spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "switchyard-usage", "--local"], { stdio: "inherit", env: { ...process.env, CI: "1" } });

const stopDashboardWatch = await watchDashboard();

// SWITCHYARD_LOCAL_DEV lets the Worker accept the local default admin token (it refuses weak ones elsewhere).
const child = spawn("npx", ["wrangler", "dev", "--var", `DEFAULT_WORKSPACE_CONFIG:${document}`, "--var", "SWITCHYARD_LOCAL_DEV:true", ...process.argv.slice(2)], { stdio: "inherit" });
child.on("exit", (code, signal) => void stopDashboardWatch().finally(() => process.exit(signal ? 1 : (code ?? 0))));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
