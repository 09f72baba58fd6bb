import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSimulators } from "../test/simulators/node-server.ts";
import { readdirSync, readFileSync } from "node:fs";
import { startChild, stopChildren, waitForOutput, type Child } from "./bench/processes.ts";

/**
 * `npm run test:hybrid`: one control plane (`npm start -- --role control`) and three data planes
 * (`npm start -- --control-plane <url>`), each its own process on a free port, against the provider simulators
 * (docs/hybrid.md). Waits are bounded polls; the 5 s bounds are the issue's promises, measured from the
 * control plane's answer to the admin call until every data plane agrees.
 */
const work = mkdtempSync(join(tmpdir(), "switchyard-hybrid-"));
const ADMIN = "hybrid-test-admin-0123456789-abcdefghij";
const LIVE_WITHIN_MS = 5_000;
/** Waits that are set-up, not promises under test (a new key reaching every node before it is used). */
const SETUP_WITHIN_MS = 15_000;
const ADMIN_HEADERS = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

type Node = { child: Child; origin: string };

async function json<T = unknown>(response: Response): Promise<T> {
  const text = await response.text();
  assert.ok(response.ok, `HTTP ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Every node serves the bundle the control plane built at its first start (one esbuild run, not five). */
const bundle = join(work, "build", "worker.js");

const children: Child[] = [];

function startNode(name: string, args: string[], env: Record<string, string>): Child {
  const build = existsSync(bundle) ? ["--bundle", bundle] : ["--build-dir", join(work, "build")];
  const child = startChild(name, process.execPath, ["--import", "tsx", resolve("scripts/start.ts"), "--data-dir", join(work, `${name}-data`), ...build, "--env-file", join(work, `${name}.env`), ...args], env);
  children.push(child);
  return child;
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

const MAX_TOKENS = 20;
const chat = (origin: string, key: string, model = "smart") =>
  fetch(`${origin}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model, max_tokens: MAX_TOKENS, messages: [{ role: "user", content: "hello" }] }) });

/** The process and its descendants (npm start's workerd), so a kill leaves nothing holding the port or the data. */
function processTree(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
  return [pid, ...children.flatMap(processTree)];
}

async function kill(node: Node): Promise<void> {
  const exited = new Promise((r) => node.child.process.once("exit", r));
  for (const pid of processTree(node.child.process.pid!)) process.kill(pid, "SIGKILL");
  await exited;
}

/**
 * Polls every node at once until `check` holds on each; returns the ms until the last one agreed (measured at
 * the answer that showed it), or fails when that is over `withinMs`.
 */
async function everywhereWithin(nodes: Node[], withinMs: number, what: string, check: (node: Node) => Promise<boolean>): Promise<number> {
  const started = Date.now();
  const times = await Promise.all(
    nodes.map(async (node) => {
      for (;;) {
        if (await check(node)) return Date.now() - started;
        if (Date.now() - started > withinMs) return Number.POSITIVE_INFINITY;
        await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
  const slowest = Math.max(...times);
  assert.ok(slowest <= withinMs, `${what}: not on every data plane within ${withinMs} ms (${times.map((t) => (Number.isFinite(t) ? `${t} ms` : "never")).join(", ")})`);
  return slowest;
}

/** The routes a key sees on a node (GET /v1/models: no upstream call), or its HTTP status when refused. */
async function modelsSeen(origin: string, key: string): Promise<string[] | number> {
  const res = await fetch(`${origin}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) {
    await res.arrayBuffer();
    return res.status;
  }
  return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

const simulators = await startSimulators(0);
const providers = { sim: { type: "openai", baseURL: `${simulators.origin}/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } } };
// $1000 per 1M tokens either way: $0.001 a token, so a budget is crossed in a few requests.
const pricing = { "sim/gpt-4o-mini": { input: 1000, output: 1000 }, "sim/gpt-4o": { input: 1000, output: 1000 } };
const config = (routes: Record<string, unknown>) => ({ providers, routes, pricing });
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
  const nodeTokens = await Promise.all([1, 2, 3].map((i) => admin<{ id: string; token: string }>(control.origin, "POST", "/tokens", { name: `dc-${i}`, role: "node", workspaces: ["acme"] })));
  const plain = await admin<{ key: string }>(control.origin, "POST", "/workspaces/acme/keys", { name: "plain" });
  const foreign = await admin<{ key: string }>(control.origin, "POST", "/workspaces/other/keys", { name: "foreign" });

  const nodes = await Promise.all([1, 2, 3].map((i) => startDataPlane(i, control.origin, nodeTokens[i - 1]!.token)));
  /** Requests the control plane must eventually count for `acme`: every answered request of a valid acme key. */
  let acmeRequests = 0;
  const counted = async (response: Promise<Response>): Promise<Response> => {
    const res = await response;
    await res.arrayBuffer();
    if (res.status !== 401) acmeRequests++;
    return res;
  };

  // 1. Synced keys and configs serve on every data plane; another workspace's never reach them.
  for (const n of nodes) {
    assert.equal((await counted(chat(n.origin, plain.key))).status, 200, "a key made on the control plane serves on a data plane");
    assert.equal((await chat(n.origin, foreign.key)).status, 401, "a key of a workspace the node is not enrolled in is unknown there");
    assert.equal((await fetch(`${n.origin}/admin/workspaces`, { headers: ADMIN_HEADERS })).status, 404, "a data plane has no admin API");
  }
  console.log("ok - keys and configs made on the control plane serve on all three data planes; other workspaces' never do");

  // 2. A config change is live on every data plane within 5 s.
  await admin(control.origin, "PUT", "/workspaces/acme/config", config({ ...smart, fast: { strategy: "single", target: { provider: "sim", model: "gpt-4o" } } }));
  const configMs = await everywhereWithin(nodes, LIVE_WITHIN_MS, "config change", async (n) => {
    const seen = await modelsSeen(n.origin, plain.key);
    return Array.isArray(seen) && seen.includes("fast");
  });
  for (const n of nodes) assert.equal((await counted(chat(n.origin, plain.key, "fast"))).status, 200, "the new route serves");
  console.log(`ok - a config change is live on every data plane within 5 s (${configMs} ms)`);

  // 3. A revoked key is refused on every data plane within 5 s.
  const doomed = await admin<{ id: string; key: string }>(control.origin, "POST", "/workspaces/acme/keys", { name: "doomed" });
  await everywhereWithin(nodes, SETUP_WITHIN_MS, "new key", async (n) => Array.isArray(await modelsSeen(n.origin, doomed.key)));
  await admin(control.origin, "DELETE", `/workspaces/acme/keys/${doomed.id}`);
  const revokeMs = await everywhereWithin(nodes, LIVE_WITHIN_MS, "key revocation", async (n) => (await modelsSeen(n.origin, doomed.key)) === 401);
  console.log(`ok - a revoked key is refused on every data plane within 5 s (${revokeMs} ms)`);

  // 4. Limits are counted centrally: leases from the control plane's KeyLimiter over HTTP.
  const RPM = 30;
  const limited = await admin<{ id: string; key: string }>(control.origin, "POST", "/workspaces/acme/keys", { name: "rpm", rateLimit: { rpm: RPM } });
  const BUDGET_USD = 0.2;
  const budgeted = await admin<{ id: string; key: string }>(control.origin, "POST", "/workspaces/acme/keys", { name: "budget", budget: { usd: BUDGET_USD, period: "total" } });
  await everywhereWithin(nodes, SETUP_WITHIN_MS, "limited keys", async (n) => Array.isArray(await modelsSeen(n.origin, limited.key)) && Array.isArray(await modelsSeen(n.origin, budgeted.key)));
  const burst = await Promise.all(Array.from({ length: RPM * 2 }, (_, i) => counted(chat(nodes[i % 3]!.origin, limited.key))));
  const admitted = burst.filter((r) => r.status === 200).length;
  assert.ok(burst.every((r) => r.status === 200 || r.status === 429), `only 200 and 429: ${burst.map((r) => r.status).join(",")}`);
  assert.ok(admitted <= RPM && admitted > 0, `rpm ${RPM} across three data planes admitted ${admitted} of ${burst.length}`);
  console.log(`ok - rpm ${RPM} across three data planes: ${admitted} of ${burst.length} admitted`);

  let budgetRefused = 0;
  for (let round = 0; round < 40 && budgetRefused < 3; round++) {
    const answers = await Promise.all(nodes.map((n) => counted(chat(n.origin, budgeted.key))));
    budgetRefused += answers.filter((r) => r.status === 429).length;
  }
  assert.ok(budgetRefused >= 3, "the budget ran out");
  const spent = await admin<{ spend: { usd: number }[]; reservedUsd: number }>(control.origin, "GET", `/workspaces/acme/keys/${budgeted.id}/limits`);
  const spentUsd = spent.spend.reduce((sum, p) => sum + p.usd, 0) + spent.reservedUsd;
  // One request's maximum cost: its prompt estimate (well under 50 tokens) and max_tokens, at $0.001 a token.
  const maxRequestUsd = (50 + MAX_TOKENS) * 0.001;
  assert.ok(spentUsd <= BUDGET_USD + maxRequestUsd, `a $${BUDGET_USD} budget across three data planes spent $${spentUsd.toFixed(4)} (over by more than one request's maximum, $${maxRequestUsd})`);
  console.log(`ok - a $${BUDGET_USD} budget across three data planes: $${spentUsd.toFixed(4)} spent and reserved (at most one request's maximum $${maxRequestUsd} over)`);

  // 5. The control plane killed (SIGKILL) and restarted mid-traffic: synced keys never fail, no usage is lost.
  const port = new URL(control.origin).port;
  let failed = 0;
  let served = 0;
  let traffic = true;
  // A key with limits too: while the control plane is down its nodes admit from the offline allowance.
  const metered = await admin<{ key: string }>(control.origin, "POST", "/workspaces/acme/keys", { name: "metered", rateLimit: { rpm: 60_000 }, budget: { usd: 1_000, period: "total" } });
  await everywhereWithin(nodes, SETUP_WITHIN_MS, "metered key", async (n) => Array.isArray(await modelsSeen(n.origin, metered.key)));
  const failures: string[] = [];
  const clients = nodes.flatMap((n, i) => [plain.key, metered.key].map(async (key) => {
    while (traffic) {
      const res = await counted(chat(n.origin, key)).catch((error: unknown) => `data${i + 1}: ${error instanceof Error ? `${error.message} (${String(error.cause)})` : String(error)}`);
      if (typeof res !== "string" && res.status === 200) served++;
      else {
        failed++;
        failures.push(typeof res === "string" ? res : `data${i + 1}: HTTP ${res.status}`);
      }
    }
  }));
  await new Promise((r) => setTimeout(r, 1_000));
  await kill(control);
  const servedBeforeRestart = served;
  await new Promise((r) => setTimeout(r, 3_000));
  assert.ok(served > servedBeforeRestart, "the data planes kept serving while the control plane was down");
  control = await startControlPlane(Number(port));
  await new Promise((r) => setTimeout(r, 1_000));
  traffic = false;
  await Promise.all(clients);
  assert.equal(failed, 0, `requests failed while the control plane was down or restarting (${failed} of ${served + failed}): ${[...new Set(failures)].join("; ")}`);
  console.log(`ok - the control plane killed and restarted mid-traffic: ${served} requests on three data planes, 0 failed`);

  const shippedWithinMs = 30_000;
  const started = Date.now();
  let usageRows = 0;
  while (Date.now() - started < shippedWithinMs) {
    const report = await admin<{ totals: { requests: number } }>(control.origin, "GET", "/workspaces/acme/usage");
    usageRows = report.totals.requests;
    assert.ok(usageRows <= acmeRequests, `more usage events (${usageRows}) than requests (${acmeRequests}): an event was written twice`);
    if (usageRows === acmeRequests) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(usageRows, acmeRequests, "every request's usage event reached the control plane");
  console.log(`ok - ${usageRows} usage events for ${acmeRequests} requests reached the control plane: none lost, none twice`);

  // 6. A node token revoked: that node drops what it synced within 5 s and serves nothing it cannot verify.
  await admin(control.origin, "DELETE", `/tokens/${nodeTokens[2]!.id}`);
  const dropMs = await everywhereWithin([nodes[2]!], LIVE_WITHIN_MS, "node token revocation", async (n) => (await modelsSeen(n.origin, plain.key)) === 401);
  assert.equal((await counted(chat(nodes[0]!.origin, plain.key))).status, 200, "the other nodes keep serving");
  console.log(`ok - a revoked node token: that data plane refuses every key within 5 s (${dropMs} ms), the others serve`);
} catch (error) {
  for (const child of children) console.error(`--- ${child.name}, last output:\n${child.output().split("\n").slice(-15).join("\n")}`);
  throw error;
} finally {
  await stopChildren();
  await simulators.close();
  rmSync(work, { recursive: true, force: true });
}
