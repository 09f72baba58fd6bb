import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
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
 *     A config for real providers starts no simulators.
 *  2. The quickstart: a fresh `npm run dev`, and a fresh `npm start`, with the default config
 *     (switchyard.config.json, its simulator port moved to a free one) and the local secrets (.dev.vars.example)
 *     start the provider simulators themselves, say so, and answer the README's first request; the simulators
 *     stop with them.
 *  3. Bindings come from wrangler.toml generically: a fixture Worker with vars, a secret file, KV, R2, a SQLite
 *     Durable Object, a Queue with its consumer and D1 (migrations applied once) works, and its state persists.
 *  4. `npm run dev`'s secrets, as wrangler loads them: the local defaults, overridden by .dev.vars, overridden by
 *     the process environment when CLOUDFLARE_INCLUDE_PROCESS_ENV=true (and only then).
 *  5. `npm start` and `npm run deploy` refuse a weak ADMIN_TOKEN (and deploy refuses SWITCHYARD_LOCAL_DEV),
 *     before anything starts or uploads.
 *  6. A graceful stop loses no usage event: requests answered just before SIGTERM are all in D1 after a restart.
 */
const work = mkdtempSync(join(tmpdir(), "switchyard-start-"));
const ADMIN = "start-test-admin-0123456789-abcdefghij";

async function json(response: Response): Promise<unknown> {
  const text = await response.text();
  assert.ok(response.ok, `HTTP ${response.status}: ${text}`);
  return JSON.parse(text);
}

const STARTED_SIMULATORS = /started the provider simulators on (http:\/\/\S+)/;

async function startGateway(dataDir: string): Promise<string> {
  return (await startGatewayChild(dataDir)).origin;
}

async function startGatewayChild(dataDir: string): Promise<{ origin: string; child: ReturnType<typeof startChild> }> {
  const child = startChild("npm start", process.execPath, ["--import", "tsx", resolve("scripts/start.ts"), "--port", "0", "--data-dir", dataDir, "--env-file", join(work, "secrets.env")], {
    SWITCHYARD_CONFIG: join(work, "switchyard.config.json"),
  });
  const origin = (await waitForOutput(child, /switchyard listening on (http:\/\/\S+)/))[1]!;
  assert.doesNotMatch(child.output(), STARTED_SIMULATORS, "a config for real providers starts no simulators");
  return { origin, child };
}

const adminCall = (origin: string, path: string, body?: unknown) =>
  fetch(`${origin}/admin${path}`, { method: body === undefined ? "GET" : "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

async function gracefulStopKeepsUsage(): Promise<void> {
  const upstream = startChild("upstream", process.execPath, ["--import", "tsx", resolve("scripts/bench/upstream.ts"), "--port", "0", "--latency-ms", "1"]);
  const port = (await waitForOutput(upstream, /listening (\d+)/))[1]!;
  writeFileSync(
    join(work, "switchyard.config.json"),
    JSON.stringify({
      providers: { sim: { type: "openai", baseURL: `http://127.0.0.1:${port}/v1`, apiKey: { env: "OPENAI_API_KEY" } } },
      routes: { smart: { strategy: "single", target: { provider: "sim", model: "gpt-4o-mini" } } },
    }),
  );
  writeFileSync(join(work, "secrets.env"), `ADMIN_TOKEN=${ADMIN}\nOPENAI_API_KEY=sk-sim-start\n`);
  const dataDir = join(work, "drain-data");
  const first = await startGatewayChild(dataDir);
  // A key with limits: its settlements and lease reports run after the responses too.
  const created = (await json(await adminCall(first.origin, "/workspaces/default/keys", { name: "drain", rateLimit: { rpm: 1000 }, budget: { usd: 10, period: "month" } }))) as { key: string };
  const chat = () =>
    fetch(`${first.origin}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "smart", messages: [{ role: "user", content: "hi" }] }) }).then(json);
  await Promise.all(Array.from({ length: 5 }, chat));
  await new Promise((r) => setTimeout(r, 300));
  const exited = new Promise((resolve) => first.child.process.once("exit", resolve));
  first.child.process.kill("SIGTERM");
  await exited;
  const origin = await startGateway(dataDir);
  const usage = (await json(await adminCall(origin, "/workspaces/default/usage"))) as { totals: { requests: number } };
  assert.equal(usage.totals.requests, 5, "all 5 usage events sent 0.3 s before SIGTERM were written");
  await stopChildren();
  console.log("ok - a graceful stop (SIGTERM) writes every pending usage event before the process exits");
}

/** A port nothing listens on right now (the OS picks it), so no test binds a fixed port. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/openai/v1/models`).then(
    () => true,
    () => false,
  );
}

/** The README's quickstart requests: the admin token it names, and the body of its first chat request. */
function readmeQuickstart(): { adminToken: string; chatBody: unknown } {
  const readme = readFileSync("README.md", "utf8");
  const adminToken = /-H "authorization: Bearer ([^"]+)"/.exec(readme)?.[1];
  const chatBody = /curl http:\/\/localhost:8787\/v1\/chat\/completions[^]*?-d '([^']+)'/.exec(readme)?.[1];
  assert.ok(adminToken && chatBody, "the README shows a key request and a chat request");
  return { adminToken, chatBody: JSON.parse(chatBody) };
}

type Command = "npm run dev" | "npm start";

/** The command on the default config, its simulators moved to a free port; resolves with the gateway's origin. */
async function startQuickstart(command: Command, simulatorPort: number): Promise<string> {
  const defaultConfig = readFileSync("switchyard.config.json", "utf8");
  const config = defaultConfig.replaceAll("127.0.0.1:8790", `127.0.0.1:${simulatorPort}`);
  assert.notEqual(config, defaultConfig, "the default config points at the simulators on 127.0.0.1:8790");
  writeFileSync(join(work, "quickstart.json"), config);
  const env = { SWITCHYARD_CONFIG: join(work, "quickstart.json"), SIMULATOR_PORT: String(simulatorPort) };
  // npm run dev reads the local defaults itself; npm start refuses their weak admin token, so it gets a strong one.
  writeFileSync(join(work, "quickstart.env"), `${readFileSync(".dev.vars.example", "utf8")}\nADMIN_TOKEN=${ADMIN}\n`);
  const child =
    command === "npm start"
      ? startChild(command, process.execPath, ["--import", "tsx", resolve("scripts/start.ts"), "--port", "0", "--data-dir", join(work, "quickstart-data"), "--env-file", join(work, "quickstart.env")], env)
      : startChild(command, process.execPath, ["--import", "tsx", resolve("scripts/dev.ts"), "--port", "0", "--inspector-port", "0", "--ip", "127.0.0.1"], env);
  const ready = command === "npm start" ? /switchyard listening on (http:\/\/\S+)/ : /Ready on (http:\/\/\S+)/;
  const origin = (await waitForOutput(child, ready, 240_000))[1]!;
  assert.equal(child.output().match(STARTED_SIMULATORS)?.[1], `http://127.0.0.1:${simulatorPort}`, `${command} says it started the simulators, and where`);
  return origin;
}

async function quickstartAnswers(command: Command): Promise<void> {
  const simulatorPort = await freePort();
  const origin = await startQuickstart(command, simulatorPort);

  const { adminToken: readmeToken, chatBody } = readmeQuickstart();
  const adminToken = command === "npm start" ? ADMIN : readmeToken;
  const { key } = (await json(
    await fetch(`${origin}/admin/workspaces/default/keys`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ name: "me" }) }),
  )) as { key: string };
  const reply = (await json(
    await fetch(`${origin}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(chatBody) }),
  )) as { choices: { message: { content: string } }[] };
  assert.match(reply.choices[0]?.message.content ?? "", /^Hello from the simulator/, `the README's first request is answered by the simulators ${command} started`);

  await stopChildren();
  assert.equal(await accepts(simulatorPort), false, "the simulators stop with the gateway");
  console.log(`ok - a fresh ${command} with the default config starts the simulators, says so, and answers the README's first request`);
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
  await quickstartAnswers("npm start");
  await quickstartAnswers("npm run dev");
  weakAdminTokensAreRefused();
  await gracefulStopKeepsUsage();
  await bindingsFromWranglerToml();
} finally {
  await stopChildren();
  rmSync(work, { recursive: true, force: true });
}
