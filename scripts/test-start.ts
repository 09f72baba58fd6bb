import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startChild, stopChildren, waitForOutput } from "./bench/processes.ts";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { startDataPlane } from "./runtime/data-plane.ts";
import { devSecretsFiles } from "./runtime/dev-secrets.ts";

/**
 * `npm run test:start`: the self-hosted data plane, end to end and outside workerd's test pool (it starts
 * processes). No timing assertions.
 *  1. `npm start` (scripts/start.ts) serves the gateway: a key made through the admin API lists the config's
 *     routes on GET /v1/models, and still does after a restart on the same data directory.
 *  2. Bindings come from wrangler.toml generically: a fixture Worker with vars, a secret file, KV, R2, a SQLite
 *     Durable Object, a Queue with its consumer and D1 (migrations applied once) works, and its state persists.
 *  3. `npm run dev`'s secrets, as wrangler loads them: the local defaults, overridden by .dev.vars, overridden by
 *     the process environment when CLOUDFLARE_INCLUDE_PROCESS_ENV=true (and only then).
 *  4. `npm start` and `npm run deploy` refuse a weak ADMIN_TOKEN (and deploy refuses SWITCHYARD_LOCAL_DEV),
 *     before anything starts or uploads.
 */
const work = mkdtempSync(join(tmpdir(), "switchyard-start-"));
const ADMIN = "start-test-admin-0123456789-abcdefghij";

async function json(response: Response): Promise<unknown> {
  const text = await response.text();
  assert.ok(response.ok, `HTTP ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function startGateway(dataDir: string): Promise<string> {
  const child = startChild("npm start", process.execPath, ["--import", "tsx", resolve("scripts/start.ts"), "--port", "0", "--data-dir", dataDir, "--env-file", join(work, "secrets.env")], {
    SWITCHYARD_CONFIG: join(work, "switchyard.config.json"),
  });
  return (await waitForOutput(child, /switchyard listening on (http:\/\/\S+)/))[1]!;
}

async function gatewayServesModels(): Promise<void> {
  writeFileSync(
    join(work, "switchyard.config.json"),
    JSON.stringify({
      providers: { sim: { type: "openai", baseURL: "http://127.0.0.1:9/v1", apiKey: { env: "OPENAI_API_KEY" } } },
      routes: { smart: { strategy: "single", target: { provider: "sim", model: "gpt-4o-mini" } } },
    }),
  );
  writeFileSync(join(work, "secrets.env"), `ADMIN_TOKEN=${ADMIN}\nOPENAI_API_KEY=sk-sim-start\n`);
  const dataDir = join(work, "gateway-data");
  let origin = await startGateway(dataDir);
  const created = (await json(
    await fetch(`${origin}/admin/workspaces/default/keys`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ name: "start-test" }) }),
  )) as { key: string };
  const models = async () => (await json(await fetch(`${origin}/v1/models`, { headers: { authorization: `Bearer ${created.key}` } }))) as { data: { id: string }[] };
  assert.ok((await models()).data.some((m) => m.id === "smart"), "GET /v1/models lists the config's route");
  assert.equal((await fetch(`${origin}/v1/models`)).status, 401, "no key, no models");

  await stopChildren();
  origin = await startGateway(dataDir);
  assert.ok((await models()).data.some((m) => m.id === "smart"), "the key survives a restart on the same data directory");
  await stopChildren();
  console.log("ok - npm start serves /v1/models with a key made through the admin API, and keeps it across restarts");
}

async function bindingsFromWranglerToml(): Promise<void> {
  const envFile = join(work, "fixture.env");
  writeFileSync(envFile, "FIXTURE_SECRET=from-env-file\n");
  const dataDir = join(work, "fixture-data");
  const options = { port: 0, host: "127.0.0.1", dataDir, defaultWorkspaceConfig: '{"providers":{}}', wranglerConfig: resolve("test/start-fixture/wrangler.toml"), buildDir: join(work, "fixture-build"), envFiles: [envFile] };
  let plane = await startDataPlane(options);
  try {
    assert.deepEqual(plane.migrations, ["DB/0001_events.sql"], "the D1 migration is applied at start");
    const at = (path: string, init?: RequestInit) => fetch(new URL(path, plane.url), init).then(json);
    assert.deepEqual(await at("/vars"), { greeting: "from wrangler.toml", secret: "from-env-file", config: '{"providers":{}}' });
    assert.deepEqual(await at("/kv?tag=kept", { method: "PUT" }), { value: "kept" });
    assert.deepEqual(await at("/r2?tag=stored", { method: "PUT" }), { value: "stored" });
    assert.deepEqual(await at("/do"), { value: 1 });
    assert.deepEqual(await at("/do"), { value: 2 });
    await at("/queue?tag=queued");
    let rows: unknown = [];
    for (let i = 0; i < 100 && (rows as unknown[]).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await at("/d1?tag=queued");
    }
    assert.deepEqual(rows, [{ body: "queued" }], "the queue consumer wrote the message into the migrated D1 table");
  } finally {
    await plane.dispose();
  }

  plane = await startDataPlane(options);
  try {
    assert.deepEqual(plane.migrations, [], "an applied migration is not applied again");
    const at = (path: string) => fetch(new URL(path, plane.url)).then(json);
    assert.deepEqual(await at("/kv"), { value: "kept" }, "KV persists");
    assert.deepEqual(await at("/r2"), { value: "stored" }, "R2 persists");
    assert.deepEqual(await at("/do"), { value: 3 }, "Durable Object storage persists");
    assert.deepEqual(await at("/d1?tag=queued"), [{ body: "queued" }], "D1 persists");
  } finally {
    await plane.dispose();
  }
  console.log("ok - vars, env-file secrets, KV, R2, Durable Objects, Queues and D1 come from wrangler.toml; migrations once; state persists");
}

/** The secret bindings wrangler gives the Worker for `npm run dev`'s env files, with `processEnv` set meanwhile. */
function devSecretBindings(projectRoot: string, processEnv: Record<string, string>): Record<string, unknown> {
  const saved = Object.fromEntries(Object.keys(processEnv).map((name) => [name, process.env[name]]));
  Object.assign(process.env, processEnv);
  try {
    const config = unstable_readConfig({ config: resolve("wrangler.toml") }, { hideWarnings: true });
    const options = { envFiles: devSecretsFiles(projectRoot) } as Parameters<typeof unstable_getMiniflareWorkerOptions>[2];
    return unstable_getMiniflareWorkerOptions(config, undefined, options).workerOptions.bindings ?? {};
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function devSecretsMerge(): void {
  const root = join(work, "dev-project");
  mkdirSync(root);
  writeFileSync(join(root, ".dev.vars.example"), "ADMIN_TOKEN=from-defaults\nOPENAI_API_KEY=from-defaults\nANTHROPIC_API_KEY=from-defaults\n");
  writeFileSync(join(root, ".dev.vars"), "OPENAI_API_KEY=from-dev-vars\n");
  const merged = devSecretBindings(root, { CLOUDFLARE_INCLUDE_PROCESS_ENV: "true", ANTHROPIC_API_KEY: "from-process" });
  assert.equal(merged.ADMIN_TOKEN, "from-defaults", "the local defaults apply");
  assert.equal(merged.OPENAI_API_KEY, "from-dev-vars", ".dev.vars overrides the defaults");
  assert.equal(merged.ANTHROPIC_API_KEY, "from-process", "CLOUDFLARE_INCLUDE_PROCESS_ENV=true adds the process environment, even with a .dev.vars");
  const withoutFlag = devSecretBindings(root, { CLOUDFLARE_INCLUDE_PROCESS_ENV: "false", ANTHROPIC_API_KEY: "from-process" });
  assert.equal(withoutFlag.ANTHROPIC_API_KEY, "from-defaults", "without the flag the process environment stays out");
  console.log("ok - npm run dev: local defaults < .dev.vars < process environment (with CLOUDFLARE_INCLUDE_PROCESS_ENV=true)");
}

/** Runs a launcher to its end (it must not get as far as serving or uploading). */
function runLauncher(script: string, args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", resolve(script), ...args], { encoding: "utf8", timeout: 120_000, env: { ...process.env, CI: "1", ...env } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function weakAdminTokensAreRefused(): void {
  const config = join(work, "switchyard.config.json");
  for (const [file, token, reason] of [["weak-default.env", "dev-admin-token", /published local-development default/], ["weak-short.env", "0123456789abcdef", /shorter than 32/]] as const) {
    writeFileSync(join(work, file), `ADMIN_TOKEN=${token}\nOPENAI_API_KEY=sk-sim-start\n`);
    const start = runLauncher("scripts/start.ts", ["--port", "0", "--data-dir", join(work, "refused-data"), "--env-file", join(work, file)], { SWITCHYARD_CONFIG: config });
    assert.equal(start.status, 1, `npm start exits 1:\n${start.output}`);
    assert.match(start.output, /refusing to start: ADMIN_TOKEN .* is too weak/);
    assert.match(start.output, reason);
    assert.doesNotMatch(start.output, /listening/);

    const deploy = runLauncher("scripts/deploy.ts", ["--dry-run", "--outdir", join(work, "refused-dist"), "--secrets-file", join(work, file)], { SWITCHYARD_CONFIG: config });
    assert.equal(deploy.status, 1, `npm run deploy exits 1:\n${deploy.output}`);
    assert.match(deploy.output, /refusing to deploy:[\s\S]*ADMIN_TOKEN from .* is too weak/);
    assert.doesNotMatch(deploy.output, /Total Upload/);
  }
  const localDev = runLauncher("scripts/deploy.ts", ["--dry-run", "--outdir", join(work, "refused-dist"), "--var", "SWITCHYARD_LOCAL_DEV:true"], { SWITCHYARD_CONFIG: config });
  assert.equal(localDev.status, 1, localDev.output);
  assert.match(localDev.output, /SWITCHYARD_LOCAL_DEV is set \(--var\)/);

  writeFileSync(join(work, "strong.env"), `ADMIN_TOKEN=${ADMIN}\n`);
  const strong = runLauncher("scripts/deploy.ts", ["--dry-run", "--outdir", join(work, "dist"), "--secrets-file", join(work, "strong.env")], { SWITCHYARD_CONFIG: config });
  assert.equal(strong.status, 0, `a strong token deploys (dry run):\n${strong.output}`);
  console.log("ok - npm start and npm run deploy refuse a weak ADMIN_TOKEN (and deploy refuses SWITCHYARD_LOCAL_DEV); a strong one passes");
}

try {
  devSecretsMerge();
  await gatewayServesModels();
  weakAdminTokensAreRefused();
  await bindingsFromWranglerToml();
} finally {
  await stopChildren();
  rmSync(work, { recursive: true, force: true });
}
