import { LoadTarget, type LoadStats } from "./load.ts";
import { descendantRss } from "./processes.ts";
import { inspectorSession } from "./profile.ts";
import { ROUTE, type Targets } from "./targets.ts";

/**
 * `npm run bench -- --batch <lines>`: a gateway-run batch of that many chat lines (docs/batches.md) through the
 * bench route's gateway-mode twin, with interactive traffic on the same key the whole time. Reported: the batch's
 * wall time and lines/s, memory sampled through the run — the Worker isolate's V8 heap (inspector
 * `Runtime.getHeapUsage`: flat when lines are streamed, not held) and the serving workerd's resident memory (which
 * grows under any load on this runtime, docs/performance.md "Soak") — and the interactive path's req/s and p99
 * before, during and after the batch.
 */

export type BatchBenchResult = {
  lines: number;
  status: string;
  requestCounts: unknown;
  seconds: number;
  linesPerSecond: number;
  interactive: { before: LoadStats; during: LoadStats; after: LoadStats };
  memory: { atS: number; done: number; workerdRssMiB: number; heapUsedMiB: number | null; heapTotalMiB: number | null }[];
};

const mib = (bytes: number | undefined) => Number(((bytes ?? 0) / 2 ** 20).toFixed(1));
const FINAL = new Set(["completed", "failed", "expired", "cancelled"]);

function inputFile(route: string, lines: number): Blob {
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    parts.push(`${JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: route, messages: [{ role: "user", content: `Say hello to ${i}.` }] } })}\n`);
  }
  return new Blob(parts, { type: "application/jsonl" });
}

export async function runBatchBench(targets: Targets, options: { lines: number; connections: number; windowMs: number; inspectorPort?: number }): Promise<BatchBenchResult> {
  if (!targets.batchRoute) throw new Error("this build's config has no gateway batch mode (routes[].batch.mode)");
  const headers = { authorization: `Bearer ${targets.key}` };
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${targets.gateway}/v1${path}`, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
    return body;
  };
  const interactive = new LoadTarget(
    {
      origin: targets.gateway,
      path: "/v1/chat/completions",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: ROUTE, messages: [{ role: "user", content: "Say hello." }] }),
    },
    options.connections,
  );
  const workerdPid = targets.gatewayChild.process.pid!;
  const memory: BatchBenchResult["memory"] = [];
  const inspector = options.inspectorPort ? await inspectorSession(options.inspectorPort, "switchyard") : undefined;
  const heap = async () => {
    if (!inspector) return { heapUsedMiB: null, heapTotalMiB: null };
    await inspector.send("HeapProfiler.collectGarbage");
    const usage = (await inspector.send("Runtime.getHeapUsage")) as { usedSize: number; totalSize: number };
    return { heapUsedMiB: mib(usage.usedSize), heapTotalMiB: mib(usage.totalSize) };
  };
  try {
    await interactive.run(0, 2_000);
    const before = (await interactive.run(options.windowMs)).stats();
    console.log(`interactive before the batch: ${Math.round(before.rps)} req/s, p99 ${before.latencyMs.p99.toFixed(1)} ms`);

    const form = new FormData();
    form.set("purpose", "batch");
    form.set("file", inputFile(targets.batchRoute, options.lines), "bench.jsonl");
    const file = await api("/files", { method: "POST", body: form });
    const startedAt = performance.now();
    const created = await api("/batches", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }) });
    console.log(`batch ${String(created.id)}: ${options.lines} lines; interactive load of ${options.connections} connections on the same key while it runs`);
    console.log("    t s   done lines   interactive req/s   p99 ms   workerd RSS MiB   V8 heap used MiB (after GC)");

    const during: LoadStats[] = [];
    let batch = created;
    while (!FINAL.has(String(batch.status))) {
      const window = (await interactive.run(options.windowMs)).stats();
      during.push(window);
      batch = await api(`/batches/${String(created.id)}`);
      const counts = batch.request_counts as { completed: number; failed: number };
      const atS = Math.round((performance.now() - startedAt) / 1000);
      const sample = { atS, done: counts.completed + counts.failed, workerdRssMiB: mib(descendantRss(workerdPid).workerd), ...(await heap()) };
      memory.push(sample);
      console.log(`${String(atS).padStart(7)} ${String(sample.done).padStart(12)} ${String(Math.round(window.rps)).padStart(19)} ${window.latencyMs.p99.toFixed(1).padStart(8)} ${String(sample.workerdRssMiB).padStart(17)} ${String(sample.heapUsedMiB ?? "-").padStart(29)}`);
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const after = (await interactive.run(options.windowMs)).stats();
    const sum = (pick: (s: LoadStats) => number) => during.reduce((total, s) => total + pick(s), 0);
    const duringAll: LoadStats = {
      ...during.at(-1)!,
      requests: sum((s) => s.requests),
      errors: sum((s) => s.errors),
      durationMs: sum((s) => s.durationMs),
      rps: (sum((s) => s.requests) / Math.max(1, sum((s) => s.durationMs))) * 1000,
      latencyMs: { ...during.at(-1)!.latencyMs, p99: Math.max(...during.map((s) => s.latencyMs.p99)) },
    };
    return { lines: options.lines, status: String(batch.status), requestCounts: batch.request_counts, seconds, linesPerSecond: options.lines / seconds, interactive: { before, during: duringAll, after }, memory };
  } finally {
    inspector?.close();
    await interactive.close();
  }
}
