import { spawn } from "node:child_process";
import { unstable_readConfig } from "wrangler";
import { configPath, loadConfigDocument } from "./config-source.ts";
import { deploymentProblems } from "./runtime/admin-token-checks.ts";
import { buildDashboard } from "./runtime/dashboard.ts";

/**
 * `npm run deploy [-- wrangler deploy args]`: validates the config file and deploys the Worker with the document
 * bundled as the `default` workspace's config. `npm run build` is the same with `--dry-run --outdir dist`:
 * the production bundle, built without a Cloudflare account. It refuses to deploy with SWITCHYARD_LOCAL_DEV on or
 * a weak ADMIN_TOKEN it can see (`--secrets-file`, `--var`, [vars]); see scripts/runtime/admin-token-checks.ts.
 */
const args = process.argv.slice(2);
const problems = deploymentProblems(unstable_readConfig({ config: "wrangler.toml" }, { hideWarnings: true }).vars, args);
if (problems.length > 0) {
  console.error("switchyard: refusing to deploy:");
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
const path = configPath();
const document = loadConfigDocument(path);
console.log(`switchyard: config ${path}`);
await buildDashboard();
const child = spawn("npx", ["wrangler", "deploy", "--var", `DEFAULT_WORKSPACE_CONFIG:${document}`, ...args], { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
