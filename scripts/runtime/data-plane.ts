import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { Log, LogLevel, Miniflare, type WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { bundleWorker } from "./bundle.ts";
import { applyD1Migrations } from "./d1-migrations.ts";

export type DataPlaneOptions = {
  /** Port of the gateway's own socket (requests go straight to the Worker, not through Miniflare's entry). */
  port: number;
  host: string;
  /** Persistent local state (KV, Durable Objects, D1, Cache API): `<dataDir>/v3/…`, wrangler's `--persist-to` layout. */
  dataDir: string;
  /** The validated `default` workspace config (compact JSON), passed as the DEFAULT_WORKSPACE_CONFIG binding. */
  defaultWorkspaceConfig: string;
  /** wrangler.toml: bindings, compatibility settings and the entry point are all read from it. */
  wranglerConfig?: string;
  /** Where the bundle is written. */
  buildDir?: string;
  /** Secrets files to read instead of .dev.vars (like `wrangler dev --env-file`); they also pull in the process environment when CLOUDFLARE_INCLUDE_PROCESS_ENV=true. */
  envFiles?: string[];
  /** Opens the V8 inspector (CPU profiles) on this port. */
  inspectorPort?: number;
  /** Overrides or adds bindings (tests and the benchmark); secrets normally come from .dev.vars / the environment. */
  extraBindings?: Record<string, string>;
  /** Checks the Worker's final bindings before anything starts; throwing refuses to start. */
  checkBindings?: (bindings: Record<string, unknown>) => void;
  verbose?: boolean;
};

export type DataPlane = {
  url: URL;
  mf: Miniflare;
  migrations: string[];
  /**
   * A graceful stop: waits until the Worker's own Queue consumers have taken everything pending (their backlog
   * stayed empty for one batch timeout), up to `timeoutMs`, then disposes. Miniflare's queues live in memory, so
   * a plain `dispose` loses what the consumer has not written yet. Resolves with what was still pending.
   */
  stop: (timeoutMs?: number) => Promise<{ pending: number }>;
  dispose: () => Promise<void>;
};

/** After a stop is asked for: time for requests in flight to finish and hand their events to the Queue. */
const STOP_GRACE_MS = 500;
const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/**
 * Runs the gateway on workerd through Miniflare's programmatic API, the fastest local runtime that carries every
 * binding the Worker declares (KV, Durable Objects, Queues with their consumer, D1, Cache API). The client's
 * socket is a direct socket to the Worker (`unsafeDirectSockets`), so requests skip Miniflare's entry worker.
 * Bindings are derived from wrangler.toml by wrangler itself, so new ones work without touching this file.
 */
export async function startDataPlane(options: DataPlaneOptions): Promise<DataPlane> {
  const wranglerConfig = resolve(options.wranglerConfig ?? "wrangler.toml");
  const config = unstable_readConfig({ config: wranglerConfig }, { hideWarnings: true });
  const projectRoot = resolve(wranglerConfig, "..");
  if (!config.main) throw new Error(`${wranglerConfig} has no "main" entry point`);

  const buildDir = resolve(options.buildDir ?? join(projectRoot, ".switchyard", "build"));
  const scriptPath = await bundleWorker({ entry: resolve(projectRoot, config.main), outfile: join(buildDir, "worker.js"), define: config.define });

  // Vars, .dev.vars secrets (and the process environment with CLOUDFLARE_INCLUDE_PROCESS_ENV=true), KV, DOs,
  // Queues, D1 — exactly as `wrangler dev` would configure them.
  // (`envFiles` is accepted by wrangler but missing from its declared option type.)
  const wranglerOptions = { envFiles: options.envFiles } as Parameters<typeof unstable_getMiniflareWorkerOptions>[2];
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config, undefined, wranglerOptions);
  const persistRoot = resolve(options.dataDir, "v3");
  mkdirSync(persistRoot, { recursive: true });

  const bindings: Record<string, unknown> = { ...(workerOptions.bindings ?? {}), DEFAULT_WORKSPACE_CONFIG: options.defaultWorkspaceConfig, ...(options.extraBindings ?? {}) };
  options.checkBindings?.(bindings);

  const worker = {
    ...workerOptions,
    name: config.name ?? "switchyard",
    modules: true,
    scriptPath,
    // Module names are paths relative to this root; workerd refuses names that climb out of it ("..").
    modulesRoot: buildDir,
    bindings,
    unsafeDirectSockets: [{ host: options.host, port: options.port }],
  } as WorkerOptions;

  const mf = new Miniflare({
    // Miniflare's own entry socket stays on a random loopback port: clients use the direct socket.
    host: "127.0.0.1",
    port: 0,
    defaultPersistRoot: persistRoot,
    // The placeholder `request.cf`: a self-hosted data plane does not call Cloudflare to learn its location.
    cf: false,
    log: new Log(options.verbose ? LogLevel.DEBUG : LogLevel.WARN),
    ...(options.inspectorPort !== undefined ? { inspectorPort: options.inspectorPort } : {}),
    workers: [worker],
  });
  await mf.ready;
  const migrations = await applyD1Migrations(mf, config.d1_databases, projectRoot);
  const url = await mf.unsafeGetDirectURL(worker.name);
  // Queues this Worker both produces to and consumes: what a stop must let the consumer finish.
  const consumed = new Map((config.queues.consumers ?? []).map((c: { queue: string; max_batch_timeout?: number }) => [c.queue, (c.max_batch_timeout ?? 5) * 1_000]));
  const drained = (config.queues.producers ?? []).flatMap((p: { binding: string; queue: string }) => (consumed.has(p.queue) ? [{ binding: p.binding, batchTimeoutMs: consumed.get(p.queue)! }] : []));
  const stop = async (timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    await sleep(STOP_GRACE_MS);
    let pending = 0;
    for (const { binding, batchTimeoutMs } of drained) pending += await drainQueue(await mf.getQueueProducer(binding, worker.name), batchTimeoutMs, deadline);
    await mf.dispose();
    return { pending };
  };
  return { url, mf, migrations, stop, dispose: () => mf.dispose() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls a queue's backlog until it has been empty on two readings a batch timeout apart — so a batch being
 * handed to the consumer at the first reading has been written by the second — or the deadline passes.
 * Returns the backlog left (0 when drained).
 */
async function drainQueue(queue: Awaited<ReturnType<Miniflare["getQueueProducer"]>>, batchTimeoutMs: number, deadline: number): Promise<number> {
  let emptySince: number | undefined;
  for (;;) {
    const { backlogCount } = await queue.metrics();
    const now = Date.now();
    if (backlogCount > 0) emptySince = undefined;
    else if (emptySince === undefined) emptySince = now;
    else if (now - emptySince >= batchTimeoutMs + 250) return 0;
    if (now >= deadline) return backlogCount;
    await sleep(Math.min(250, Math.max(0, deadline - now)));
  }
}
