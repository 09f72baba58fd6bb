import type { LoadStats } from "./load.ts";

export type CaseResult = {
  id: string;
  label: string;
  note?: string;
  skipped?: string;
  /** The process serving the case. */
  server?: string;
  /** CPU time (user + system) of the serving process tree per request during the throughput phase. */
  cpuMsPerRequest?: number;
  throughput?: LoadStats;
  latency?: LoadStats;
  /** The hot key in the steady state: KeyLimiter lease exchanges per 1,000 requests, and the rate it ran at. */
  limiterCallsPer1000?: number;
  hotKeyRps?: number;
};

export type Ratio = { name: string; value: string; target: string; met: boolean | null };

const fmt = (value: number | undefined, digits = 2) => (value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits));
const byId = (results: CaseResult[], id: string) => results.find((r) => r.id === id);

/** The comparisons the targets are stated in; `met` is null when a side did not run. */
export function ratios(results: CaseResult[]): Ratio[] {
  const rps = (id: string) => byId(results, id)?.throughput?.rps;
  const p50 = (id: string) => byId(results, id)?.latency?.latencyMs.p50;
  const ttfb = (id: string) => byId(results, id)?.latency?.firstByteMs.p50;
  const out: Ratio[] = [];
  const ratio = (name: string, a: number | undefined, b: number | undefined, target: string, ok: (value: number) => boolean, unit: "x" | "%" = "x") => {
    if (a === undefined || b === undefined || b === 0) return out.push({ name, value: "n/a", target, met: null });
    const value = a / b;
    out.push({ name, value: unit === "%" ? `${(value * 100).toFixed(0)}%` : `${value.toFixed(2)}x`, target, met: ok(value) });
  };
  const delta = (name: string, a: number | undefined, b: number | undefined, target: string, ok: (value: number) => boolean) => {
    if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b)) return out.push({ name, value: "n/a", target, met: null });
    const value = a - b;
    out.push({ name, value: `${value >= 0 ? "+" : ""}${value.toFixed(3)} ms`, target, met: ok(value) });
  };
  const cpu = (id: string) => byId(results, id)?.cpuMsPerRequest;
  ratio("always-on req/s vs Portkey", rps("c-always-on"), rps("g-portkey"), ">= 5x", (v) => v >= 5);
  ratio("Portkey CPU/req vs always-on CPU/req", cpu("g-portkey"), cpu("c-always-on"), ">= 5x (same, noise-robust)", (v) => v >= 5);
  ratio("always-on req/s vs pass-through Worker", rps("c-always-on"), rps("b-passthrough"), ">= 70%", (v) => v >= 0.7, "%");
  ratio("pass-through CPU/req vs always-on CPU/req", cpu("b-passthrough"), cpu("c-always-on"), ">= 70% (same, noise-robust)", (v) => v >= 0.7, "%");
  ratio("no-limits key req/s vs pass-through Worker", rps("c-no-limits"), rps("b-passthrough"), ">= 80%", (v) => v >= 0.8, "%");
  ratio("pass-through CPU/req vs no-limits key CPU/req", cpu("b-passthrough"), cpu("c-no-limits"), ">= 80% (same, noise-robust)", (v) => v >= 0.8, "%");
  const calls = byId(results, "c-always-on")?.limiterCallsPer1000;
  const hotName = "hot key, steady state: KeyLimiter calls per 1,000 requests";
  out.push(calls === undefined ? { name: hotName, value: "n/a", target: "<= 20", met: null } : { name: hotName, value: calls.toFixed(2), target: "<= 20", met: calls <= 20 });
  ratio("always-on CPU/req vs JSON round-trip Worker CPU/req", cpu("b-json-round-trip"), cpu("c-always-on"), "(share of the JSON floor)", () => true, "%");
  ratio("pass-through Worker req/s vs direct", rps("b-passthrough"), rps("a-direct"), "(platform floor)", () => true, "%");
  delta("added latency over pass-through, 1 connection, p50 (c - b)", p50("c-always-on"), p50("b-passthrough"), "<= 0.5 ms", (v) => v <= 0.5);
  delta("added latency over direct, 1 connection, p50 (c - a)", p50("c-always-on"), p50("a-direct"), "(includes the platform floor)", () => true);
  delta("pass-through floor, 1 connection, p50 (b - a)", p50("b-passthrough"), p50("a-direct"), "(platform floor)", () => true);
  delta("stream TTFB over pass-through, p50 (f gateway - f pass-through)", ttfb("f-stream-gateway"), ttfb("f-stream-passthrough"), "<= 1 ms", (v) => v <= 1);
  delta("stream TTFB, pass-through floor (f pass-through - f direct)", ttfb("f-stream-passthrough"), ttfb("f-stream-direct"), "(platform floor)", () => true);
  delta("cache hit p50 vs direct p50 (e - a)", p50("e-cache-hit"), p50("a-direct"), "< 0 ms", (v) => v < 0);
  ratio("guardrails req/s vs always-on (h / c)", rps("h-guardrails"), rps("c-always-on"), ">= 90%", (v) => v >= 0.9, "%");
  ratio("always-on CPU/req vs guardrails CPU/req (c / h)", cpu("c-always-on"), cpu("h-guardrails"), ">= 90% (same, noise-robust)", (v) => v >= 0.9, "%");
  delta("stream TTFB added by guardrails, p50 (i - f gateway)", ttfb("i-stream-guardrails"), ttfb("f-stream-gateway"), "<= 1 ms", (v) => v <= 1);
  ratio("cache miss req/s vs always-on", rps("d-cache-miss"), rps("c-always-on"), "(KV write cost of the runtime)", () => true, "%");
  return out;
}

export function printTable(results: CaseResult[], connections: number): void {
  const rows: string[][] = [["case", `req/s @${connections}`, "p50 ms", "p99 ms", "CPU ms/req", "req/s/core", "p50 ms @1", "p99 ms @1", "TTFB p50 @1", "errors", "note"]];
  for (const r of results) {
    if (r.skipped) {
      rows.push([r.label, "-", "-", "-", "-", "-", "-", "-", "-", "-", r.skipped]);
      continue;
    }
    const t = r.throughput;
    const l = r.latency;
    const errors = (t?.errors ?? 0) + (l?.errors ?? 0);
    const headers = { ...t?.headerCounts, ...l?.headerCounts };
    const note = [r.note, r.limiterCallsPer1000 !== undefined ? `hot key, steady state: ${r.limiterCallsPer1000.toFixed(2)} KeyLimiter calls per 1,000 requests at ${fmt(r.hotKeyRps, 0)} req/s` : undefined, Object.keys(headers).length ? `cache header: ${JSON.stringify(headers)}` : undefined, t?.firstError ?? l?.firstError, errors ? JSON.stringify({ ...t?.statuses, ...l?.statuses }) : undefined]
      .filter(Boolean)
      .join("; ");
    rows.push([
      r.label,
      fmt(t?.rps, 0),
      fmt(t?.latencyMs.p50),
      fmt(t?.latencyMs.p99),
      fmt(r.cpuMsPerRequest, 3),
      r.cpuMsPerRequest ? fmt(1000 / r.cpuMsPerRequest, 0) : "-",
      fmt(l?.latencyMs.p50, 3),
      fmt(l?.latencyMs.p99, 3),
      r.id.includes("stream") ? fmt(l?.firstByteMs.p50, 3) : "-",
      String(errors),
      note,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const [index, row] of rows.entries()) {
    console.log(row.map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd());
    if (index === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

export function printRatios(list: Ratio[]): void {
  console.log("");
  for (const r of list) {
    const verdict = r.met === null ? "n/a" : r.met ? "met" : "MISSED";
    console.log(`${r.name.padEnd(62)} ${r.value.padStart(12)}   target ${r.target.padEnd(38)} ${verdict}`);
  }
}
