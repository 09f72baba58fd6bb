import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startChild, stopChildren, waitForOutput } from "./bench/processes.ts";
import { startDataPlane } from "./runtime/data-plane.ts";

/**
 * `npm run test:start`: the self-hosted data plane, end to end and outside workerd's test pool (it starts
 * processes). No timing assertions.
 *  1. `npm start` (scripts/start.ts) serves the gateway: a key made through the admin API lists the config's
 *     routes on GET /v1/models, and still does after a restart on the same data directory.
 *  2. A graceful stop loses no usage event: requests answered just before SIGTERM are all in D1 after a restart.
 *  3. Bindings come from wrangler.toml generically: a fixture Worker with vars, a secret file, KV, a SQLite
 *     Durable Object, a Queue with its consumer and D1 (migrations applied once) works, and its state persists.
 */
const work = mkdtempSync(join(tmpdir(), "switchyard-start-"));
const ADMIN = "start-test-admin";

async function json(response: Response): Promise<unknown> {
  const text = await response.text();
  assert.ok(response.ok, `HTTP ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function startGateway(dataDir: string): Promise<string> {
  return (await startGatewayChild(dataDir)).origin;
}

async function startGatewayChild(dataDir: string): Promise<{ origin: string; child: ReturnType<typeof startChild> }> {
  const child = startChild("npm start", process.execPath, ["--import", "tsx", resolve("scripts/start.ts"), "--port", "0", "--data-dir", dataDir, "--env-file", join(work, "secrets.env")], {
    SWITCHYARD_CONFIG: join(work, "switchyard.config.json"),
  });
  return { origin: (await waitForOutput(child, /switchyard listening on (http:\/\/\S+)/))[1]!, child };
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
    assert.deepEqual(await at("/do"), { value: 3 }, "Durable Object storage persists");
    assert.deepEqual(await at("/d1?tag=queued"), [{ body: "queued" }], "D1 persists");
  } finally {
    await plane.dispose();
  }
  console.log("ok - vars, env-file secrets, KV, Durable Objects, Queues and D1 come from wrangler.toml; migrations once; state persists");
}

try {
  await gatewayServesModels();
  await gracefulStopKeepsUsage();
  await bindingsFromWranglerToml();
} finally {
  await stopChildren();
  rmSync(work, { recursive: true, force: true });
}
