import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { bundleWorker } from "./runtime/bundle.ts";
import { startDataPlane } from "./runtime/data-plane.ts";

/**
 * `npm run bench:usage`: usage data at volume. Loads synthetic usage events (default 10 million over 90 days)
 * through the real Queue consumer into the local D1 (scripts/bench/worker/usage-loader.ts, in the same runtime
 * as the gateway), runs the retention job, then times the usage API for the whole 90-day range grouped by model,
 * by key, by day and by a declared metadata key — and, for contrast, one raw-event query. Prints the consumer's
 * write rate and the latencies, and writes bench-results/usage-<time>.json. Not part of CI except --smoke.
 *
 *   --events <n>     events to load (default 10000000); --days <n> range they span, ending now (default 90)
 *   --consumer-events <n>  how many of them go through the Queue consumer, timed as its write rate (default
 *                    500000); the rest are written by the same store in 1,000-event transactions (same SQL and
 *                    triggers, without the consumer's per-message work), to load 10 million in reasonable time
 *   --smoke          20,000 events, a few query runs, totals checked against what was loaded (CI)
 *   --data-dir <d>   keep the D1 data there (reused with --reuse: no load, queries only)
 *   --runs <n>       timed runs per query (default 20)
 */
const { values } = parseArgs({
  options: {
    events: { type: "string", default: "10000000" },
    days: { type: "string", default: "90" },
    smoke: { type: "boolean", default: false },
    "data-dir": { type: "string" },
    reuse: { type: "boolean", default: false },
    runs: { type: "string", default: "20" },
    "consumer-events": { type: "string", default: "500000" },
  },
});

const smoke = values.smoke;
const total = smoke ? 20_000 : Number(values.events);
const days = Number(values.days);
const runs = smoke ? 3 : Number(values.runs);
const CHUNK = 20_000;
const consumerEvents = smoke ? total : Math.min(total, Number(values["consumer-events"]));
const DAY_MS = 86_400_000;
const ADMIN = "bench-usage-admin-0123456789abcdefghij";
const WORKSPACE = "bench";

const dataDir = resolve(values["data-dir"] ?? mkdtempSync(join(tmpdir(), "switchyard-usage-bench-")));
const buildDir = join(dataDir, "build");
const alreadyLoaded = values.reuse && existsSync(join(dataDir, "loaded.json"));

const loaderPath = await bundleWorker({ entry: resolve("scripts/bench/worker/usage-loader.ts"), outfile: join(buildDir, "usage-loader.js") });
const plane = await startDataPlane({
  port: 0,
  host: "127.0.0.1",
  dataDir,
  buildDir,
  defaultWorkspaceConfig: JSON.stringify({ providers: {} }),
  extraBindings: { ADMIN_TOKEN: ADMIN },
  // The retention job runs when the benchmark says, so it is timed on its own.
  crons: false,
  companions: (gateway) => [
    {
      name: "usage-loader",
      modules: true,
      scriptPath: loaderPath,
      modulesRoot: buildDir,
      compatibilityDate: gateway.compatibilityDate,
      compatibilityFlags: gateway.compatibilityFlags,
      d1Databases: gateway.d1Databases,
      kvNamespaces: gateway.kvNamespaces,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    },
  ],
});

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

try {
  const origin = plane.url.origin;
  const adminCall = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${origin}/admin${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" } });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as unknown;
  };
  const db = await plane.mf.getD1Database("USAGE_DB");
  const count = async (table: string) => ((await db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first()) as { n: number }).n;

  const end = Date.now();
  const start = end - days * DAY_MS;
  type Phase = { events: number; seconds: number; eventsPerSecond: number };
  let load: { consumer: Phase; bulk: Phase | null } | undefined;
  if (!alreadyLoaded) {
    await adminCall("/workspaces", { method: "POST", body: JSON.stringify({ id: WORKSPACE, name: "Usage benchmark" }) });
    await adminCall(`/workspaces/${WORKSPACE}/config`, { method: "PUT", body: JSON.stringify({ providers: {}, usage: { metadataKeys: ["team"] } }) });
    const loader = await plane.mf.unsafeGetDirectURL("usage-loader");
    const phase = async (label: string, mode: "consumer" | "bulk", first: number, end_: number): Promise<Phase | null> => {
      if (end_ <= first) return null;
      const began = performance.now();
      for (let from = first; from < end_; from += CHUNK) {
        const size = Math.min(CHUNK, end_ - from);
        const res = await fetch(new URL(`/?mode=${mode}&workspace=${WORKSPACE}&from=${from}&count=${size}&total=${total}&startMs=${start}&spanMs=${end - start}`, loader));
        const counts = (await res.json()) as { acked: number; retried: number };
        assert.equal(counts.acked, size, `every event of the chunk at ${from} was written (${counts.retried} retried)`);
        const done = from + size;
        if ((done - first) % (CHUNK * 25) === 0 || done === end_) {
          const seconds = (performance.now() - began) / 1000;
          console.log(`${label}: ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} events, ${Math.round((done - first) / seconds).toLocaleString("en-US")} events/s`);
        }
      }
      const seconds = (performance.now() - began) / 1000;
      return { events: end_ - first, seconds: round(seconds), eventsPerSecond: Math.round((end_ - first) / seconds) };
    };
    const consumer = await phase("consumer (100-event Queue batches)", "consumer", 0, consumerEvents);
    const bulk = await phase("bulk (1,000-event transactions)", "bulk", consumerEvents, total);
    load = { consumer: consumer!, bulk };
    writeFileSync(join(dataDir, "loaded.json"), JSON.stringify({ total, start, end }));
  }
  const rowsBefore = { events: await count("usage_events"), hourly: await count("usage_rollup_hourly"), daily: await count("usage_rollup_daily") };
  console.log(`rows: ${rowsBefore.events.toLocaleString("en-US")} raw events, ${rowsBefore.hourly.toLocaleString("en-US")} hourly and ${rowsBefore.daily.toLocaleString("en-US")} daily rollup rows`);

  // The retention job, as its cron trigger runs it (repeated until a run reports nothing left).
  const retentionBegan = performance.now();
  let retentionRuns = 0;
  let remaining = rowsBefore.events;
  for (;;) {
    await plane.runScheduled("*/15 * * * *");
    retentionRuns++;
    const now = await count("usage_events");
    if (now === remaining) break;
    remaining = now;
  }
  const retentionSeconds = (performance.now() - retentionBegan) / 1000;
  const rowsAfter = { events: await count("usage_events"), hourly: await count("usage_rollup_hourly"), daily: await count("usage_rollup_daily") };
  const deleted = rowsBefore.events - rowsAfter.events;
  console.log(`retention: ${deleted.toLocaleString("en-US")} raw events (and ${(rowsBefore.hourly - rowsAfter.hourly).toLocaleString("en-US")} hourly rows) deleted in ${round(retentionSeconds)} s over ${retentionRuns} run(s); ${rowsAfter.events.toLocaleString("en-US")} raw events kept`);

  const range = `from=${new Date(start).toISOString()}&to=${new Date(end).toISOString()}`;
  type Report = { source: string; totals: { requests: number }; groups: { key: string; requests: number }[] };
  const timed = async (label: string, query: string, times = runs) => {
    const path = `/workspaces/${WORKSPACE}/usage?${query}`;
    const report = (await adminCall(path)) as Report;
    const samples: number[] = [];
    for (let i = 0; i < times; i++) {
      const t0 = performance.now();
      await adminCall(path);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const result = { label, query, source: report.source, groups: report.groups.length, requests: report.totals.requests, p50Ms: round(percentile(samples, 50)), p95Ms: round(percentile(samples, 95)), maxMs: round(samples.at(-1)!) };
    console.log(`${label.padEnd(44)} ${String(result.p50Ms).padStart(8)} ms p50 ${String(result.p95Ms).padStart(8)} ms p95  (${result.source}, ${result.groups} groups, ${result.requests.toLocaleString("en-US")} requests)`);
    return { result, report };
  };
  console.log(`\nusage API, ${days}-day range (${runs} timed runs each, after one untimed):`);
  const byModel = await timed(`${days} days by model`, `${range}&groupBy=model`);
  const byKey = await timed(`${days} days by key`, `${range}&groupBy=key`);
  const byDay = await timed(`${days} days by day`, `${range}&groupBy=day`);
  const byTeam = await timed(`${days} days by metadata.team (declared)`, `${range}&groupBy=metadata.team`);
  const rawFrom = new Date(end - 7 * DAY_MS).toISOString();
  const rawFeature = await timed("7 days by metadata.feature (raw events)", `from=${rawFrom}&groupBy=metadata.feature`, Math.min(runs, 3));

  for (const { report } of [byModel, byKey, byDay, byTeam]) {
    assert.equal(report.totals.requests, total, "the rollups account for every loaded event");
    assert.equal(report.groups.reduce((sum, g) => sum + g.requests, 0), total, "groups add up to the total");
  }

  const d1Files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && f.name.endsWith(".sqlite")).map((f) => join(f.parentPath, f.name)) : []);
  const dbBytes = d1Files(join(dataDir, "v3", "d1")).reduce((sum, file) => sum + statSync(file).size, 0);
  const summary = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
    events: total,
    days,
    load,
    rows: { before: rowsBefore, afterRetention: rowsAfter },
    retention: { deleted, seconds: round(retentionSeconds), runs: retentionRuns },
    d1Bytes: dbBytes,
    queries: [byModel.result, byKey.result, byDay.result, byTeam.result, rawFeature.result],
  };
  if (load) console.log(`\nconsumer write rate: ${load.consumer.eventsPerSecond.toLocaleString("en-US")} events/s over ${load.consumer.events.toLocaleString("en-US")} events${load.bulk ? `; bulk ${load.bulk.eventsPerSecond.toLocaleString("en-US")} events/s` : ""}`);
  console.log(`D1 file ${(dbBytes / 1e9).toFixed(2)} GB`);
  if (!smoke) {
    mkdirSync("bench-results", { recursive: true });
    const out = join("bench-results", `usage-${summary.date.replace(/[:.]/g, "-")}.json`);
    writeFileSync(out, JSON.stringify(summary, null, 2));
    console.log(`wrote ${out}`);
  } else console.log("bench:usage --smoke passed (no timing assertions)");
} finally {
  await plane.dispose();
  if (!values["data-dir"]) rmSync(dataDir, { recursive: true, force: true });
}
