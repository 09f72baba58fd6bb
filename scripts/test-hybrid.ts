import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSimulators } from "../test/simulators/node-server.ts";
import { startChild, stopChildren, waitForOutput, type Child } from "./bench/processes.ts";

/**
 * `npm run test:hybrid`: one control plane (`npm start -- --role control`) and three data planes
 * (`npm start -- --control-plane <url>`), each its own process on a free port, against the provider simulators
 * (docs/hybrid.md). Waits are bounded polls; the 5 s bounds are the promises, measured from the
 * control plane's answer to the admin call until every data plane agrees.
 */
const work = mkdtempSync(join(tmpdir(), "switchyard-hybrid-"));
const ADMIN = "hybrid-test-admin-0123456789-abcdefghij";
const LIVE_WITHIN_MS = 5_000;
const ADMIN_HEADERS = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

type Node = { child: Child; origin: string };

async function json<T = unknown>(response: Response): Promise<T> {
  const text = await response.text();
  assert.ok(response.ok, `HTTP ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Every node serves the bundle the control plane built first (one esbuild run, not four). */
const bundle = join(work, "build", "worker.js");

function startNode(name: string, args: string[], env: Record<string, string>): Child {
  const build = name === "control" ? ["--build-dir", join(work, "build")] : ["--bundle", bundle];
  return startChild(name, process.execPath, ["--import", "tsx", resolve("scripts/start.ts"), "--data-dir", join(work, `${name}-data`), ...build, "--env-file", join(work, `${name}.env`), ...args], env);
}

const STARTUP_MS = 300_000;

async function startControlPlane(port = 0): Promise<Node> {
  const child = startNode("control", ["--role", "control", "--port", String(port)], { SWITCHYARD_CONFIG: join(work, "switchyard.config.json") });
  return { child, origin: (await waitForOutput(child, /switchyard listening on (http:\/\/\S+)/, STARTUP_MS))[1]! };
}

async function startDataPlane(index: number, controlPlane: string, nodeToken: string): Promise<Node> {
  const child = startNode(`data${index}`, ["--port", "0", "--control-plane", controlPlane], { SWITCHYARD_NODE_TOKEN: nodeToken });
  return { child, origin: (await waitForOutput(child, /switchyard listening on (http:\/\/\S+)/, STARTUP_MS))[1]! };
}

async function admin<T = unknown>(origin: string, method: string, path: string, body?: unknown): Promise<T> {
  return json<T>(await fetch(`${origin}/admin${path}`, { method, headers: ADMIN_HEADERS, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }));
}

const chat = (origin: string, key: string, model = "smart") =>
  fetch(`${origin}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }) });

/** Polls until `check` holds on every node; returns the ms it took, or fails after `withinMs`. */
async function everywhereWithin(nodes: Node[], withinMs: number, what: string, check: (node: Node) => Promise<boolean>): Promise<number> {
  const started = Date.now();
  const pending = new Set(nodes);
  while (pending.size > 0) {
    for (const node of [...pending]) if (await check(node)) pending.delete(node);
    assert.ok(Date.now() - started <= withinMs, `${what}: not on every data plane within ${withinMs} ms`);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

const simulators = await startSimulators(0);
const providers = { sim: { type: "openai", baseURL: `${simulators.origin}/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } } };
const config = (routes: Record<string, unknown>) => ({ providers, routes });
const smart = { smart: { strategy: "single", target: { provider: "sim", model: "gpt-4o-mini" } } };

try {
  writeFileSync(join(work, "switchyard.config.json"), JSON.stringify(config(smart)));
  const vars = "ALLOW_PRIVATE_UPSTREAMS=*\nWORKSPACE_ENV_SECRETS=acme=OPENAI_API_KEY;other=OPENAI_API_KEY\n";
  writeFileSync(join(work, "control.env"), `ADMIN_TOKEN=${ADMIN}\n${vars}`);
  // Provider secrets live only in the data planes' own environment.
  for (const i of [1, 2, 3]) writeFileSync(join(work, `data${i}.env`), `OPENAI_API_KEY=sk-sim-hybrid\n${vars}`);

  let control = await startControlPlane();
  for (const id of ["acme", "other"]) {
    await admin(control.origin, "POST", "/workspaces", { id, name: id });
    await admin(control.origin, "PUT", `/workspaces/${id}/config`, config(smart));
  }
  const node = await admin<{ id: string; token: string }>(control.origin, "POST", "/tokens", { name: "dc-1", role: "node", workspaces: ["acme"] });
  const plain = await admin<{ key: string }>(control.origin, "POST", "/workspaces/acme/keys", { name: "plain" });
  const foreign = await admin<{ key: string }>(control.origin, "POST", "/workspaces/other/keys", { name: "foreign" });

  const nodes = await Promise.all([1, 2, 3].map((i) => startDataPlane(i, control.origin, node.token)));

  // 1. Synced keys and configs serve on every data plane; another workspace's never reach them.
  for (const n of nodes) {
    assert.equal((await chat(n.origin, plain.key)).status, 200, "a key made on the control plane serves on a data plane");
    assert.equal((await chat(n.origin, foreign.key)).status, 401, "a key of a workspace the node is not enrolled in is unknown there");
    assert.equal((await fetch(`${n.origin}/admin/workspaces`, { headers: ADMIN_HEADERS })).status, 404, "a data plane has no admin API");
  }
  console.log("ok - keys and configs made on the control plane serve on all three data planes; other workspaces' never do");

  // 2. A config change is live on every data plane within 5 s.
  await admin(control.origin, "PUT", "/workspaces/acme/config", config({ ...smart, fast: { strategy: "single", target: { provider: "sim", model: "gpt-4o" } } }));
  const configMs = await everywhereWithin(nodes, LIVE_WITHIN_MS, "config change", async (n) => (await chat(n.origin, plain.key, "fast")).status === 200);
  console.log(`ok - a config change is live on every data plane within 5 s (${configMs} ms)`);

  // 3. A revoked key is refused on every data plane within 5 s.
  const doomed = await admin<{ id: string; key: string }>(control.origin, "POST", "/workspaces/acme/keys", { name: "doomed" });
  await everywhereWithin(nodes, LIVE_WITHIN_MS, "new key", async (n) => (await chat(n.origin, doomed.key)).status === 200);
  await admin(control.origin, "DELETE", `/workspaces/acme/keys/${doomed.id}`);
  const revokeMs = await everywhereWithin(nodes, LIVE_WITHIN_MS, "key revocation", async (n) => (await chat(n.origin, doomed.key)).status === 401);
  console.log(`ok - a revoked key is refused on every data plane within 5 s (${revokeMs} ms)`);

  void control;
} finally {
  await stopChildren();
  await simulators.close();
  rmSync(work, { recursive: true, force: true });
}
