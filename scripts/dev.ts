import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configPath, loadConfigDocument } from "./config-source.ts";
import { simulatorsFor } from "./runtime/local-simulators.ts";

/**
 * `npm run dev [-- wrangler dev args]`: validates the config file, then runs `wrangler dev` (local storage,
 * no Cloudflare account) with the document as the `default` workspace's config. Extra arguments go to
 * wrangler (`npm run dev -- --port 8788`). A missing .dev.vars is created from .dev.vars.example so the local
 * defaults (admin token, simulator keys) work out of the box, and when the config's providers point at the
 * local simulators and nothing listens there, the simulators run in this process for as long as the gateway.
 */
const path = configPath();
const document = loadConfigDocument(path);
if (!existsSync(".dev.vars") && existsSync(".dev.vars.example")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("switchyard: created .dev.vars from .dev.vars.example (local secrets; edit it to add real provider keys)");
}
console.log(`switchyard: config ${path}`);
await simulatorsFor(document);
// wrangler's own launcher, run directly: through npx, a SIGTERM to this process would stop npm's shell but
// leave wrangler (and workerd) running.
const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
// The local usage database (D1) follows migrations/ before the Worker starts; CI=1 skips wrangler's confirmation.
spawnSync(process.execPath, [wrangler, "d1", "migrations", "apply", "switchyard-usage", "--local"], { stdio: "inherit", env: { ...process.env, CI: "1" } });

const child = spawn(process.execPath, [wrangler, "dev", "--var", `DEFAULT_WORKSPACE_CONFIG:${document}`, ...process.argv.slice(2)], { stdio: "inherit" });
// The simulators (when started here) end with this process.
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
