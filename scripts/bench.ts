import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runBatchBench } from "./bench/batch.ts";
import { benchCases, type BenchCase } from "./bench/cases.ts";
import { LoadTarget, Tally, type LoadStats } from "./bench/load.ts";
import { descendantRss, stopChildren, treeCpuMs } from "./bench/processes.ts";
import { profileWorker, summarise } from "./bench/profile.ts";
import { printRatios, printTable, ratios, type CaseResult } from "./bench/report.ts";
import { ROUTE, limiterExchanges, startTargets } from "./bench/targets.ts";

/**
 * `npm run bench`: one run on this machine of every case against the same fixed-latency upstream, printed as a
 * table with the ratios the performance targets are stated in, and written to bench-results/<time>.json.
 *
 *   --smoke            a few seconds per run, for CI (never asserts timings)
 *   --soak <seconds>   the always-on path under load for that long: memory (RSS) and latency drift per window
 *                      (`--soak-case b`: the bare pass-through Worker instead, the runtime's own memory curve)
 *   --duration <s>     throughput phase per case (default 5); --latency-duration <s> (default 3)
 *   --connections <n>  throughput concurrency (default 50); --latency-ms <ms> upstream latency (default 5)
 *   --rounds <n>       interleaved rounds the case durations are split into (default 5)
 *   --only a,c,g       only these cases (by letter); --no-portkey; --out <file>
 *   --profile          a CPU profile of the Worker on the always-on path (bench-results/*.cpuprofile + summary)
 *   --batch <lines>    a gateway-run batch of that many lines with interactive load on the same key: its time, the
 *                      workerd's memory through the run, interactive req/s before / during / after (--connections)
 *   --profile          a CPU profile of the Worker on the always-on path (bench-results/*.cpuprofile + summary);
 *                      `--profile-case c'`: with the key without limits
 */
const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    soak: { type: "string" },
    duration: { type: "string", default: "5" },
    "latency-duration": { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "5" },
    "latency-ms": { type: "string", default: "5" },
    only: { type: "string" },
    "no-portkey": { type: "boolean", default: false },
    out: { type: "string" },
    profile: { type: "boolean", default: false },
    "soak-case": { type: "string", default: "c" },
    batch: { type: "string" },
    "profile-case": { type: "string", default: "c" },
  },
});

const smoke = values.smoke;
const connections = smoke ? 4 : Number(values.connections);
const throughputMs = smoke ? 400 : Number(values.duration) * 1000;
const latencyMs = smoke ? 300 : Number(values["latency-duration"]) * 1000;
const warmupMs = smoke ? 100 : 1_000;
const only = values.only?.split(",").map((s) => s.trim().toLowerCase());
const soakSeconds = values.soak === undefined ? undefined : Number(values.soak);

const version = (pkg: string) => {
  try {
    return (JSON.parse(readFileSync(join("node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
};

const machine = () => ({
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadavg: loadavg().map((l) => Number(l.toFixed(2))),
  node: process.version,
  workerd: version("workerd"),
  miniflare: version("miniflare"),
  portkey: version("@portkey-ai/gateway"),
});

const lastLines = (text: string, count = 20) => text.trimEnd().split("\n").slice(-count).join("\n");

function writeResults(kind: string, data: unknown): string {
  const file = values.out ?? join("bench-results", `${kind}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/**
 * Every case, interleaved: `rounds` slices of each case in turn rather than one long block per case, so the
 * background load of a shared machine falls on all cases alike. CPU time of the serving process (tree) per
 * request is read from /proc around each throughput slice: it is far less sensitive to that load than req/s.
 */
async function runCases(): Promise<void> {
  const targets = await startTargets({ latencyMs: Number(values["latency-ms"]), chunks: 5, withPortkey: !values["no-portkey"] && (!only || only.includes("g")), withDataPlane: !smoke && (!only || only.includes("j")) });
  const loads: LoadTarget[] = [];
  try {
    const runId = Date.now().toString(36);
    const rounds = smoke ? 1 : Number(values.rounds);
    console.log(`switchyard bench${smoke ? " (smoke)" : ""}: upstream latency ${values["latency-ms"]} ms; ${connections} connections for ${throughputMs / 1000} s and 1 for ${latencyMs / 1000} s per case, in ${rounds} interleaved rounds; key limits ${targets.keyLimits}`);
    const planned: { benchCase: BenchCase; result: CaseResult; throughput?: LoadTarget; latency?: LoadTarget; tallies: { throughput: Tally; latency: Tally }; cpuMs: number }[] = [];
    for (const benchCase of benchCases(targets, runId)) {
      if (only && !only.includes(benchCase.id[0]!)) continue;
      const result: CaseResult = { id: benchCase.id, label: benchCase.label, server: benchCase.server, ...(benchCase.note ? { note: benchCase.note } : {}) };
      if (benchCase.skipped || !benchCase.load) {
        planned.push({ benchCase, result: { ...result, skipped: benchCase.skipped ?? "n/a" }, tallies: { throughput: new Tally(), latency: new Tally() }, cpuMs: 0 });
        continue;
      }
      const shape = await benchCase.load();
      const entry = { benchCase, result, tallies: { throughput: new Tally(), latency: new Tally() }, cpuMs: 0 } as (typeof planned)[number];
      if (benchCase.phases.includes("throughput")) loads.push((entry.throughput = new LoadTarget(shape, connections)));
      if (benchCase.phases.includes("latency")) loads.push((entry.latency = new LoadTarget(shape, 1)));
      planned.push(entry);
    }
    const active = planned.filter((p) => !p.result.skipped);
    // Warm-up (JIT, connections, isolate caches), not counted: at least `warmupMs` and, up to 5 s, at least
    // 2,000 requests, so a slow target (Node) gets as many requests to optimise its code as a fast one.
    for (const p of active) {
      const load = (p.throughput ?? p.latency)!;
      const startedAt = performance.now();
      let sent = 0;
      while (performance.now() - startedAt < warmupMs || (!smoke && sent < 2_000 && performance.now() - startedAt < 5_000)) {
        const tally = await load.run(Math.min(500, warmupMs));
        sent += tally.latencies.length + tally.errors;
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const p of active) {
        if (!p.throughput) continue;
        const pid = targets.pids[p.benchCase.server];
        const before = pid ? treeCpuMs(pid) : 0;
        p.tallies.throughput.add(await p.throughput.run(throughputMs / rounds));
        p.cpuMs += pid ? treeCpuMs(pid) - before : 0;
      }
      for (const p of active) if (p.latency) p.tallies.latency.add(await p.latency.run(latencyMs / rounds));
      process.stdout.write(".");
    }
    // The hot key in the steady state: case (c) alone, its leases warm for a second, then its KeyLimiter's lease
    // exchanges counted over a whole throughput phase. (The interleaved slices above start cold every time.)
    const hot = active.find((p) => p.benchCase.id === "c-always-on" && p.throughput);
    let hotKey: { rps: number; requests: number; calls: number } | undefined;
    if (hot?.throughput) {
      await hot.throughput.run(smoke ? 200 : 1_000);
      const before = await limiterExchanges(targets);
      const stats = (await hot.throughput.run(throughputMs)).stats();
      const after = await limiterExchanges(targets);
      if (before !== undefined && after !== undefined && after >= before) hotKey = { rps: stats.rps, requests: stats.requests + stats.errors, calls: after - before };
    }
    const results = planned.map((p) => {
      if (p.result.skipped) return p.result;
      const out: CaseResult = { ...p.result };
      if (p.throughput) {
        out.throughput = p.tallies.throughput.stats();
        const served = out.throughput.requests + out.throughput.errors;
        if (targets.pids[p.benchCase.server] && served > 0) out.cpuMsPerRequest = p.cpuMs / served;
        if (p === hot && hotKey && hotKey.requests > 0) {
          out.limiterCallsPer1000 = (hotKey.calls / hotKey.requests) * 1000;
          out.hotKeyRps = hotKey.rps;
        }
      }
      if (p.latency) out.latency = p.tallies.latency.stats();
      return out;
    });
    console.log("\n");
    printTable(results, connections);
    const list = ratios(results);
    printRatios(list);
    const file = writeResults(smoke ? "smoke" : "bench", {
      kind: smoke ? "smoke" : "bench",
      at: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
      machine: machine(),
      settings: { connections, throughputMs, latencyMs, warmupMs, rounds, upstreamLatencyMs: Number(values["latency-ms"]), keyLimits: targets.keyLimits, cachedRoute: targets.cachedRoute ?? null, guardedRoute: targets.guardedRoute ?? null },
      results,
      ratios: list,
    });
    console.log(`\nresults: ${file} (one run on a shared machine: compare ratios, not absolute figures)`);
    if (results.some((r) => (r.throughput?.errors ?? 0) + (r.latency?.errors ?? 0) > 0)) console.log(`\nthe gateway's last output lines:\n${lastLines(targets.gatewayChild.output())}`);
    const failed = results.filter((r) => !r.skipped && ((r.throughput?.requests ?? 1) === 0 || (r.latency?.requests ?? 1) === 0));
    if (failed.length) {
      console.error(`no successful requests in: ${failed.map((r) => r.id).join(", ")}`);
      process.exitCode = 1;
    }
  } finally {
    await Promise.all(loads.map((load) => load.close()));
    await targets.dispose();
  }
}

/**
 * The always-on path (or, with `--soak-case b`, the bare pass-through Worker: the runtime's own curve) under steady
 * load: per-window throughput, latency and the resident memory of the serving workerd.
 */
async function runSoak(seconds: number): Promise<void> {
  const targets = await startTargets({ latencyMs: Number(values["latency-ms"]), chunks: 5, withPortkey: false, withDataPlane: false });
  try {
    const windowMs = Math.max(5_000, Math.round((seconds * 1000) / 30));
    const windows: { atS: number; rps: number; p50: number; p99: number; rssMiB: Record<string, number> }[] = [];
    const startedAt = performance.now();
    const passthrough = values["soak-case"] === "b";
    const servingPid = passthrough ? targets.pids.passthrough! : targets.gatewayChild.process.pid!;
    console.log(`switchyard soak: ${passthrough ? "bare pass-through Worker" : "always-on path"}, ${connections} connections, ${seconds} s, a line every ${windowMs / 1000} s; key limits ${targets.keyLimits}`);
    console.log("    t s    req/s   p50 ms   p99 ms   RSS MiB (workerd / launcher)");
    const rssNow = () => {
      const rss = descendantRss(servingPid);
      return Object.fromEntries(Object.entries(rss).map(([name, bytes]) => [name, Number((bytes / 2 ** 20).toFixed(1))]));
    };
    const onWindow = (stats: LoadStats) => {
      const entry = { atS: Math.round((performance.now() - startedAt) / 1000), rps: Math.round(stats.rps), p50: stats.latencyMs.p50, p99: stats.latencyMs.p99, rssMiB: rssNow() };
      windows.push(entry);
      const rss = `${entry.rssMiB.workerd ?? "-"} / ${entry.rssMiB.node ?? "-"}`;
      console.log(`${String(entry.atS).padStart(7)} ${String(entry.rps).padStart(8)} ${entry.p50.toFixed(2).padStart(8)} ${entry.p99.toFixed(2).padStart(8)}   ${rss}`);
    };
    const load = new LoadTarget(
      {
        origin: passthrough ? targets.passthrough : targets.gateway,
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json", authorization: `Bearer ${targets.key}` },
        body: JSON.stringify({ model: passthrough ? "gpt-4o-mini" : ROUTE, messages: [{ role: "user", content: "Say hello." }] }),
      },
      connections,
    );
    const total = (await load.run(seconds * 1000, 0, { ms: windowMs, onWindow })).stats();
    await load.close();
    // Warm-up: the first tenth of the run (at least one window) — JIT, isolate caches, allocator arenas.
    const warm = windows.slice(Math.max(1, Math.floor(windows.length / 10)));
    const first = warm.slice(0, 3);
    const last = warm.slice(-3);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const rssOf = (w: (typeof windows)[number]) => w.rssMiB.workerd ?? 0;
    const rssGrowth = warm.length >= 2 ? (rssOf(warm[warm.length - 1]!) - rssOf(warm[0]!)) / Math.max(1, rssOf(warm[0]!)) : Number.NaN;
    const p99Drift = mean(last.map((w) => w.p99)) / Math.max(0.001, mean(first.map((w) => w.p99)));
    if (total.errors > 0) console.log(`\nthe gateway's last output lines:\n${lastLines(targets.gatewayChild.output())}`);
    console.log(`\ntotal: ${Math.round(total.rps)} req/s, p50 ${total.latencyMs.p50.toFixed(2)} ms, p99 ${total.latencyMs.p99.toFixed(2)} ms, errors ${total.errors}`);
    console.log(`workerd RSS after warm-up → end: ${warm[0] ? rssOf(warm[0]) : "-"} → ${warm.at(-1) ? rssOf(warm.at(-1)!) : "-"} MiB (${(rssGrowth * 100).toFixed(1)}%; target <= 10%)`);
    console.log(`p99, last 3 windows / first 3 after warm-up: ${p99Drift.toFixed(2)}x (target: flat)`);
    const file = writeResults("soak", { kind: "soak", case: passthrough ? "b-passthrough" : "c-always-on", at: new Date().toISOString(), command: `npm run bench -- ${process.argv.slice(2).join(" ")}`, machine: machine(), seconds, connections, keyLimits: targets.keyLimits, total, windows, rssGrowth, p99Drift });
    console.log(`results: ${file}`);
  } finally {
    await targets.dispose();
  }
}

/** The always-on path under load with workerd's inspector attached: where the Worker's CPU time goes. */
async function runProfile(): Promise<void> {
  const inspectorPort = 20_000 + Math.floor(Math.random() * 20_000);
  const targets = await startTargets({ latencyMs: Number(values["latency-ms"]), chunks: 5, withPortkey: false, withDataPlane: false, inspectorPort });
  try {
    const load = new LoadTarget(
      {
        origin: targets.gateway,
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json", authorization: `Bearer ${values["profile-case"] === "c'" ? targets.plainKey : targets.key}` },
        body: JSON.stringify({ model: ROUTE, messages: [{ role: "user", content: "Say hello." }] }),
      },
      connections,
    );
    await load.run(0, warmupMs);
    let stats: LoadStats | undefined;
    const profile = await profileWorker(inspectorPort, "switchyard", async () => {
      stats = (await load.run(throughputMs)).stats();
    });
    await load.close();
    const file = writeResults("profile", profile).replace(/\.json$/, ".cpuprofile");
    writeFileSync(file, JSON.stringify(profile));
    const summary = summarise(profile, readFileSync(".switchyard/build/worker.js", "utf8"));
    console.log(`profile of the always-on path (${values["profile-case"] === "c'" ? "key without limits" : `key limits ${targets.keyLimits}`}): ${stats ? Math.round(stats.rps) : "?"} req/s under the profiler, ${summary.total} samples (100 µs), key limits ${targets.keyLimits}`);
    const pct = (n: number) => `${((n / Math.max(1, summary.total)) * 100).toFixed(1)}%`.padStart(6);
    console.log("\nself time by origin:");
    for (const [name, hits] of summary.byOrigin) console.log(`  ${pct(hits)}  ${name}`);
    console.log("\nself time by function:");
    for (const [name, hits] of summary.byFunction) console.log(`  ${pct(hits)}  ${name}`);
    console.log(`\nprofile: ${file} (open in Chrome DevTools or https://www.speedscope.app)`);
  } finally {
    await targets.dispose();
  }
}

/** A gateway-run batch with interactive traffic alongside (scripts/bench/batch.ts). */
async function runBatch(lines: number): Promise<void> {
  const inspectorPort = 20_000 + Math.floor(Math.random() * 20_000);
  const targets = await startTargets({ latencyMs: Number(values["latency-ms"]), chunks: 5, withPortkey: false, withDataPlane: false, inspectorPort });
  try {
    console.log(`switchyard batch bench: upstream latency ${values["latency-ms"]} ms; key limits ${targets.keyLimits}`);
    const result = await runBatchBench(targets, { lines, connections, windowMs: smoke ? 1_000 : 5_000, inspectorPort });
    const rss = result.memory.map((s) => s.workerdRssMiB);
    const heap = result.memory.flatMap((s) => (s.heapUsedMiB === null ? [] : [s.heapUsedMiB]));
    const { before, during, after } = result.interactive;
    console.log(`\nbatch ${result.status} ${JSON.stringify(result.requestCounts)}: ${lines} lines in ${result.seconds.toFixed(1)} s (${result.linesPerSecond.toFixed(0)} lines/s)`);
    console.log(`V8 heap used (after GC) during the batch: first ${heap[0] ?? "-"} MiB, max ${heap.length ? Math.max(...heap) : "-"} MiB, last ${heap.at(-1) ?? "-"} MiB`);
    console.log(`workerd RSS during the batch: first ${rss[0] ?? "-"} MiB, max ${rss.length ? Math.max(...rss) : "-"} MiB, last ${rss.at(-1) ?? "-"} MiB (grows under any load on this runtime: docs/performance.md "Soak")`);
    console.log(`interactive req/s before / during / after: ${Math.round(before.rps)} / ${Math.round(during.rps)} / ${Math.round(after.rps)} (during/before ${(during.rps / Math.max(1, before.rps)).toFixed(2)}x); errors during ${during.errors} ${JSON.stringify(during.statuses)}`);
    const file = writeResults("batch", { kind: "batch", at: new Date().toISOString(), command: `npm run bench -- ${process.argv.slice(2).join(" ")}`, machine: machine(), connections, ...result });
    console.log(`results: ${file}`);
    if (result.status !== "completed") process.exitCode = 1;
  } finally {
    await targets.dispose();
  }
}

try {
  if (values.batch !== undefined) await runBatch(Number(values.batch));
  else if (values.profile) await runProfile();
  else if (soakSeconds !== undefined) await runSoak(smoke ? 6 : soakSeconds);
  else await runCases();
} finally {
  await stopChildren();
}
