import { parseArgs } from "node:util";
import { configPath, loadConfigDocument } from "./config-source.ts";
import { adminTokenProblem, LOCAL_DEV_VAR } from "./runtime/admin-token-checks.ts";
import { buildDashboard } from "./runtime/dashboard.ts";
import { startDataPlane } from "./runtime/data-plane.ts";
import { simulatorsFor } from "./runtime/local-simulators.ts";

/**
 * `npm start [-- --port 8787 --host 127.0.0.1 --data-dir .switchyard/data --env-file secrets.env]`: the self-hosted data plane. The
 * gateway on workerd (Miniflare's API, every binding of wrangler.toml, state persisted in the data directory),
 * the `default` workspace configured from SWITCHYARD_CONFIG or ./switchyard.config.json, secrets from .dev.vars
 * or the `--env-file`s (plus the process environment with CLOUDFLARE_INCLUDE_PROCESS_ENV=true) — wrangler's
 * own rules, as in `npm run dev`. When the config's providers point at the local simulators and nothing listens
 * there, the simulators run in this process too (as with `npm run dev`). A self-hosted data plane is not local development: it refuses a weak ADMIN_TOKEN
 * and always runs with SWITCHYARD_LOCAL_DEV off.
 */
const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "8787" },
    host: { type: "string", default: process.env.SWITCHYARD_HOST ?? "127.0.0.1" },
    "data-dir": { type: "string", default: process.env.SWITCHYARD_DATA_DIR ?? ".switchyard/data" },
    "env-file": { type: "string", multiple: true },
    "inspector-port": { type: "string" },
    "drain-timeout": { type: "string", default: "30" },
    verbose: { type: "boolean", default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`switchyard: --port must be a port number, not "${values.port}"`);
  process.exit(1);
}

const path = configPath();
const document = loadConfigDocument(path);
const simulators = await simulatorsFor(document);
await buildDashboard();
const plane = await startDataPlane({
  port,
  extraBindings: { [LOCAL_DEV_VAR]: "" },
  checkBindings: (bindings) => {
    const problem = adminTokenProblem(bindings.ADMIN_TOKEN, values["env-file"] ? values["env-file"].join(", ") : ".dev.vars / the environment");
    if (problem) {
      console.error(`switchyard: refusing to start: ${problem} (\`npm run dev\` accepts the local default for local development.)`);
      process.exit(1);
    }
  },
  host: values.host,
  dataDir: values["data-dir"],
  defaultWorkspaceConfig: document,
  verbose: values.verbose,
  ...(values["env-file"] ? { envFiles: values["env-file"] } : {}),
  ...(values["inspector-port"] ? { inspectorPort: Number(values["inspector-port"]) } : {}),
});
for (const migration of plane.migrations) console.log(`switchyard: applied D1 migration ${migration}`);
console.log(`switchyard: config ${path}`);
console.log(`switchyard: data ${values["data-dir"]}`);
console.log(`switchyard listening on ${plane.url.origin}`);

// A graceful stop: usage events already handed to the Queue are written to D1 before the runtime goes away.
// Miniflare's own signal handlers exit at once (their exit hook, which stops workerd, still runs on exit).
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`switchyard: ${signal}: writing pending usage events, then stopping`);
    plane
      .stop(Number(values["drain-timeout"]) * 1_000)
      .then(({ pending }) => console.log(pending === 0 ? "switchyard: stopped" : `switchyard: stopped with ${pending} usage events not yet written (--drain-timeout)`))
      .catch((error: unknown) => console.error(`switchyard: stop failed: ${error instanceof Error ? error.message : String(error)}`))
      .then(() => simulators?.close())
      .finally(() => process.exit(0));
  });
}
