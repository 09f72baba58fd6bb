import { spawn } from "node:child_process";
import { configPath, loadConfigDocument } from "./config-source.ts";
import { buildDashboard } from "./runtime/dashboard.ts";

/**
 * `npm run deploy [-- wrangler deploy args]`: validates the config file and deploys the Worker with the document
 * bundled as the `default` workspace's config. `npm run build` is the same with `--dry-run --outdir dist`:
 * the production bundle, built without a Cloudflare account.
 */
const path = configPath();
const document = loadConfigDocument(path);
console.log(`switchyard: config ${path}`);
await buildDashboard();
const child = spawn("npx", ["wrangler", "deploy", "--var", `DEFAULT_WORKSPACE_CONFIG:${document}`, ...process.argv.slice(2)], { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
