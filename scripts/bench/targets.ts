import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseConfig } from "../../src/config/validate.ts";
import { startPassthrough } from "./passthrough.ts";
import { childrenNamed, startChild, waitForHttp, waitForOutput, type Child } from "./processes.ts";

/** The processes one benchmark run talks to, each on its own loopback port. */
export type Targets = {
  upstream: string;
  passthrough: string;
  /** A Worker that only parses and re-serialises the JSON bodies (the floor for a gateway that reads usage). */
  jsonRoundTrip: string;
  gateway: string;
  gatewayChild: Child;
  /** A hybrid data plane (`npm start -- --control-plane <gateway>`, docs/hybrid.md) serving the same key, when started. */
  dataPlane: string | undefined;
  portkey: string | undefined;
  /** The process (tree) serving each target, for CPU per request. */
  pids: { upstream: number; passthrough: number | undefined; gateway: number; dataPlane: number | undefined; portkey: number | undefined };
  /** The gateway key the run created, and whether it carries limits (rate limit and budget). */
  key: string;
  keyId: string;
  keyLimits: "on" | "unsupported";
  /** A second key of the same workspace without limits (case c'). */
  plainKey: string;
  /** The route with `cache` on, when this build's config accepts the field. */
  cachedRoute: string | undefined;
  /** The route with every built-in guardrail detector on input and output, when this build's config accepts it. */
  guardedRoute: string | undefined;
  /** The bench route run as a gateway batch (`batch: {mode: "gateway"}`), when this build's config accepts it. */
  batchRoute: string | undefined;
  dispose: () => Promise<void>;
};

// A fresh strong token per run: `npm start` refuses weak ones.
const ADMIN_TOKEN = `bench-${randomBytes(24).toString("base64url")}`;
const PROVIDER_KEY = "sk-sim-bench";
const TSX = ["--import", "tsx"];

export const ROUTE = "bench";
export const CACHED_ROUTE = "bench-cached";
export const GUARDED_ROUTE = "bench-guarded";
export const BATCH_ROUTE = "bench-batch";

const ALL_DETECTORS = ["email", "phone", "card", "iban", "ssn", "ip", "secret"];

/** The gateway config of a run; the cache and guardrails routes are added only when the config schema accepts them. */
function benchConfig(upstream: string): { document: unknown; cachedRoute: string | undefined; guardedRoute: string | undefined; batchRoute: string | undefined } {
  const target = { provider: "sim", model: "gpt-4o-mini" };
  let document: Record<string, unknown> = {
    providers: { sim: { type: "openai", baseURL: `${upstream}/v1`, apiKey: { env: "OPENAI_API_KEY" } } },
    routes: { [ROUTE]: { strategy: "single", target } } as Record<string, unknown>,
  };
  const extended = (extra: Record<string, unknown>, routes: Record<string, unknown>) => ({ ...document, ...extra, routes: { ...(document.routes as Record<string, unknown>), ...routes } });
  const withCache = extended({}, { [CACHED_ROUTE]: { strategy: "single", target, cache: { mode: "exact", ttl: 600 } } });
  const cachedRoute = parseConfig(withCache).ok ? CACHED_ROUTE : undefined;
  if (cachedRoute) document = withCache;
  const withGuardrails = extended(
    {
      guardrails: {
        policies: { pii: { input: [{ name: "pii", detect: ALL_DETECTORS, action: "redact" }], output: [{ name: "pii-out", detect: ALL_DETECTORS, action: "redact" }] } },
        routes: { [GUARDED_ROUTE]: "pii" },
      },
    },
    { [GUARDED_ROUTE]: { strategy: "single", target } },
  );
  const guardedRoute = parseConfig(withGuardrails).ok ? GUARDED_ROUTE : undefined;
  if (guardedRoute) document = withGuardrails;
  const withBatch = extended({}, { [BATCH_ROUTE]: { strategy: "single", target, batch: { mode: "gateway" } } });
  const batchRoute = parseConfig(withBatch).ok ? BATCH_ROUTE : undefined;
  if (batchRoute) document = withBatch;
  return { document, cachedRoute, guardedRoute, batchRoute };
}

async function admin(gateway: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${gateway}${path}`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
}

/**
 * A key for the always-on path: with a rate limit and a budget high enough never to refuse, so admission runs on
 * every request; without them (and said so in the report) when this build's admin API does not take limits yet.
 */
async function createBenchKey(gateway: string): Promise<{ key: string; keyId: string; limits: "on" | "unsupported"; plainKey: string }> {
  const plain = await admin(gateway, "/admin/workspaces/default/keys", { name: "bench-no-limits" });
  if (plain.status !== 201) throw new Error(`could not create a gateway key: HTTP ${plain.status} ${await plain.text()}`);
  const plainKey = ((await plain.json()) as { key: string }).key;
  const limited = await admin(gateway, "/admin/workspaces/default/keys", {
    name: "bench",
    rateLimit: { rpm: 100_000_000, tpm: 100_000_000_000 },
    budget: { usd: 1_000_000_000, period: "month" },
  });
  if (limited.status === 201) {
    const created = (await limited.json()) as { key: string; id: string };
    return { key: created.key, keyId: created.id, limits: "on", plainKey };
  }
  await limited.arrayBuffer();
  return { key: plainKey, keyId: "", limits: "unsupported", plainKey };
}

/** Lease exchanges the limited key's KeyLimiter has served (undefined when this build does not report them). */
export async function limiterExchanges(targets: Pick<Targets, "gateway" | "keyId">): Promise<number | undefined> {
  if (!targets.keyId) return undefined;
  const res = await fetch(`${targets.gateway}/admin/workspaces/default/keys/${targets.keyId}/limits`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!res.ok) return undefined;
  const snapshot = (await res.json()) as { exchanges?: unknown };
  return typeof snapshot.exchanges === "number" ? snapshot.exchanges : undefined;
}

/**
 * A hybrid data plane of the gateway (which, standalone, also serves the control-plane API): a node token enrolled
 * in `default`, the gateway's own bundle, started once the bench key exists so its first sync carries it.
 */
async function startHybridDataPlane(gateway: string, work: string, envFile: string): Promise<{ origin: string; child: Child }> {
  const created = await admin(gateway, "/admin/tokens", { name: "bench-node", role: "node", workspaces: ["default"] });
  if (created.status !== 201) throw new Error(`could not create a node token: HTTP ${created.status} ${await created.text()}`);
  const { token } = (await created.json()) as { token: string };
  // A synced config is an admin-written one on the node: the loopback upstream needs the node's own permission.
  const nodeEnv = join(work, "data-plane.env");
  writeFileSync(nodeEnv, `${readFileSync(envFile, "utf8")}ALLOW_PRIVATE_UPSTREAMS=default\n`);
  const child = startChild(
    "data-plane",
    process.execPath,
    [...TSX, resolve("scripts/start.ts"), "--port", "0", "--data-dir", join(work, "data-plane"), "--bundle", resolve(".switchyard/build/worker.js"), "--env-file", nodeEnv, "--control-plane", gateway],
    { SWITCHYARD_NODE_TOKEN: token },
  );
  return { origin: (await waitForOutput(child, /switchyard listening on (http:\/\/\S+)/))[1]!, child };
}

export async function startTargets(options: { latencyMs: number; chunks: number; withPortkey: boolean; withDataPlane: boolean; inspectorPort?: number }): Promise<Targets> {
  const work = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  const disposers: (() => Promise<void>)[] = [];

  const upstreamChild = startChild("upstream", process.execPath, [...TSX, resolve("scripts/bench/upstream.ts"), "--port", "0", "--latency-ms", String(options.latencyMs), "--chunks", String(options.chunks)]);
  const upstreamPort = (await waitForOutput(upstreamChild, /listening (\d+)/))[1];
  const upstream = `http://127.0.0.1:${upstreamPort}`;

  const { document, cachedRoute, guardedRoute, batchRoute } = benchConfig(upstream);
  const configFile = join(work, "switchyard.config.json");
  writeFileSync(configFile, JSON.stringify(document));
  const envFile = join(work, "bench.env");
  writeFileSync(envFile, `ADMIN_TOKEN=${ADMIN_TOKEN}\nOPENAI_API_KEY=${PROVIDER_KEY}\n`);

  const gatewayChild = startChild(
    "gateway",
    process.execPath,
    [...TSX, resolve("scripts/start.ts"), "--port", "0", "--data-dir", join(work, "data"), "--env-file", envFile, ...(options.inspectorPort ? ["--inspector-port", String(options.inspectorPort)] : [])],
    { SWITCHYARD_CONFIG: configFile },
  );
  const [passthrough, gatewayMatch] = await Promise.all([
    startPassthrough(upstream, "2026-04-01"),
    waitForOutput(gatewayChild, /switchyard listening on (http:\/\/\S+)/),
  ]);
  disposers.push(passthrough.dispose);
  const gateway = gatewayMatch[1]!;

  let portkey: string | undefined;
  let portkeyPid: number | undefined;
  if (options.withPortkey) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    portkeyPid = startChild("portkey", process.execPath, [resolve("node_modules/@portkey-ai/gateway/build/start-server.js"), `--port=${port}`, "--headless"], { NODE_ENV: "production" }).process.pid;
    portkey = `http://127.0.0.1:${port}`;
    await waitForHttp(`${portkey}/`);
  }

  const { key, keyId, limits, plainKey } = await createBenchKey(gateway);
  const dataPlane = options.withDataPlane ? await startHybridDataPlane(gateway, work, envFile) : undefined;
  return {
    upstream,
    passthrough: passthrough.url.origin,
    jsonRoundTrip: passthrough.jsonUrl.origin,
    gateway,
    gatewayChild,
    dataPlane: dataPlane?.origin,
    portkey,
    // The pass-through Worker's workerd is this process's own child; the gateway's is its launcher's.
    pids: { upstream: upstreamChild.process.pid!, passthrough: childrenNamed(process.pid, "workerd")[0], gateway: gatewayChild.process.pid!, dataPlane: dataPlane?.child.process.pid, portkey: portkeyPid },
    key,
    keyId,
    keyLimits: limits,
    plainKey,
    cachedRoute,
    guardedRoute,
    batchRoute,
    dispose: async () => {
      for (const dispose of disposers) await dispose();
    },
  };
}

export const PORTKEY_HEADERS = (upstream: string) => ({
  "x-portkey-provider": "openai",
  "x-portkey-custom-host": `${upstream}/v1`,
  authorization: `Bearer ${PROVIDER_KEY}`,
});
