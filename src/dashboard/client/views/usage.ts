import * as z from "zod/mini";
import { getJson, listOf, workspacePath } from "../api";
import { COLORS, columns, hbars, type BarItem } from "../charts";
import { el } from "../dom";
import { count, isoDay, ms, pct, plural, usd, usdAxis } from "../format";
import type { View, ViewContext } from "../view";

/** The usage view: spend, requests, errors, rescues, cache hits, latency and guardrail actions of one workspace (GET …/usage). */

const GROUPINGS = ["day", "key", "route", "provider", "model"] as const;
type Grouping = (typeof GROUPINGS)[number];

const FiguresSchema = z.object({
  requests: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
  costUsd: z.nullable(z.number()),
  unpricedRequests: z.number(),
  cacheHits: z.number(),
  savedUsd: z.number(),
  rescued: z.number(),
  errors: z.number(),
  aborted: z.number(),
  latencyMs: z.object({ p50: z.nullable(z.number()), p95: z.nullable(z.number()), p99: z.nullable(z.number()) }),
});
type Figures = z.infer<typeof FiguresSchema>;
const GuardrailSchema = z.object({ rule: z.string(), flagged: z.number(), redacted: z.number(), blocked: z.number() });
type Guardrail = z.infer<typeof GuardrailSchema>;
const ReportSchema = z.object({ totals: FiguresSchema, groups: z.array(z.extend(FiguresSchema, { key: z.string() })), guardrails: z.array(GuardrailSchema) });
type Report = z.infer<typeof ReportSchema>;
type Group = Report["groups"][number];
const KeySchema = z.object({ id: z.string(), name: z.string() });

const CARDS: { chart: string; title: string; wide?: boolean }[] = [
  { chart: "spend-over-time", title: "Spend over time (USD per day)", wide: true },
  { chart: "requests-over-time", title: "Requests, errors and rescues per day", wide: true },
  { chart: "keys", title: "Top keys by spend" },
  { chart: "routes", title: "Routes by spend" },
  { chart: "providers", title: "Providers by spend" },
  { chart: "models", title: "Models by spend" },
  { chart: "rates", title: "Error, rescue and cache-hit rates" },
  { chart: "latency", title: "Latency percentiles (ms)" },
  { chart: "guardrails", title: "Guardrails: blocked, flagged and redacted per rule", wide: true },
];

function kpi(name: string, label: string, value: string, sub: string): HTMLElement {
  return el("div", { className: "kpi", dataset: { kpi: name } }, [el("div", { className: "label", text: label }), el("div", { className: "value", text: value }), el("div", { className: "sub", text: sub })]);
}

const sum = (rules: Guardrail[], field: "flagged" | "redacted" | "blocked"): number => rules.reduce((total, rule) => total + rule[field], 0);

function spendItems(groups: Group[], names: Record<string, string> = {}): BarItem[] {
  return groups.map((g) => {
    const unpriced = g.unpricedRequests > 0 ? ` (+${g.unpricedRequests} unpriced)` : "";
    return { key: g.key, label: names[g.key] ?? g.key, value: g.costUsd, display: `${g.costUsd === null ? "unpriced" : usd(g.costUsd) + unpriced} · ${count(g.requests)} req` };
  });
}

/** The UTC days of the range, oldest first, ending today. */
function daysEndingToday(days: number): { from: Date; to: Date; list: string[] } {
  const to = new Date();
  const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - (days - 1)));
  const list = Array.from({ length: days }, (_, i) => isoDay(new Date(from.getTime() + i * 86_400_000)));
  return { from, to, list };
}

function render(root: HTMLElement, reports: Record<Grouping, Report>, days: string[], keyNames: Record<string, string>): void {
  const chart = (name: string): Element => root.querySelector(`[data-chart=${name}]`)!;
  const totals = reports.day.totals;
  const rules = reports.day.guardrails;
  root.querySelector(".kpis")!.replaceChildren(
    kpi("spend", "Spend", usd(totals.costUsd), totals.unpricedRequests > 0 ? `${plural(totals.unpricedRequests, "unpriced request")} not included` : "all requests priced"),
    kpi("requests", "Requests", count(totals.requests), `${count(totals.promptTokens)} prompt / ${count(totals.completionTokens)} completion tokens`),
    kpi("errors", "Error rate", pct(totals.errors, totals.requests), `${count(totals.errors)} failed, ${count(totals.aborted)} abandoned`),
    kpi("rescued", "Rescue rate", pct(totals.rescued, totals.requests), `${count(totals.rescued)} saved by a fallback`),
    kpi("cache", "Cache hit rate", pct(totals.cacheHits, totals.requests), `${usd(totals.savedUsd)} saved`),
    kpi("latency", "Latency p50 / p95", ms(totals.latencyMs.p50), `p95 ${ms(totals.latencyMs.p95)} · p99 ${ms(totals.latencyMs.p99)}`),
    kpi("guardrails", "Guardrail blocks", count(sum(rules, "blocked")), `${count(sum(rules, "flagged"))} flagged, ${count(sum(rules, "redacted"))} redacted`),
  );

  const byDay = new Map(reports.day.groups.map((g) => [g.key, g]));
  const categories = days.map((d) => ({ key: d, label: d.slice(5) }));
  const perDay = (field: "costUsd" | "requests" | "errors" | "rescued") => days.map((d) => byDay.get(d)?.[field] ?? 0);
  columns(chart("spend-over-time"), categories, [{ name: "spend", color: COLORS.accent, values: perDay("costUsd") }], { format: usdAxis, label: "Spend per day" });
  columns(
    chart("requests-over-time"),
    categories,
    [
      { name: "requests", color: COLORS.accent, values: perDay("requests") },
      { name: "errors", color: COLORS.warn, values: perDay("errors") },
      { name: "rescued", color: COLORS.ok, values: perDay("rescued") },
    ],
    { format: count, label: "Requests per day" },
  );

  hbars(chart("keys"), spendItems(reports.key.groups, keyNames), { label: "Top keys" });
  hbars(chart("routes"), spendItems(reports.route.groups), { label: "Routes" });
  hbars(chart("providers"), spendItems(reports.provider.groups), { label: "Providers" });
  hbars(chart("models"), spendItems(reports.model.groups), { label: "Models" });

  const rate = (key: string, label: string, part: number, color: string): BarItem => ({ key, label, value: totals.requests > 0 ? (100 * part) / totals.requests : 0, display: pct(part, totals.requests), color });
  const rates = totals.requests === 0 ? [] : [rate("errors", "Error rate", totals.errors, COLORS.warn), rate("rescued", "Rescue rate", totals.rescued, COLORS.ok), rate("cache", "Cache hit rate", totals.cacheHits, COLORS.alt)];
  hbars(chart("rates"), rates, { label: "Rates", max: 100 });

  const latencyGroups: { key: string; figures: Figures }[] = [{ key: "all", figures: totals }, ...reports.provider.groups.map((g) => ({ key: g.key, figures: g }))].filter((g) => g.figures.requests > 0);
  const percentile = (p: "p50" | "p95" | "p99") => latencyGroups.map((g) => g.figures.latencyMs[p] ?? 0);
  columns(
    chart("latency"),
    latencyGroups.map((g) => ({ key: g.key, label: g.key })),
    [
      { name: "p50", color: COLORS.accent, values: percentile("p50") },
      { name: "p95", color: COLORS.alt, values: percentile("p95") },
      { name: "p99", color: COLORS.warn, values: percentile("p99") },
    ],
    { format: (v) => `${Math.round(v)}`, label: "Latency percentiles", width: 400, height: 200 },
  );

  // Per rule: requests blocked, matches flagged and redacted (the usage API's guardrails list).
  columns(
    chart("guardrails"),
    rules.map((rule) => ({ key: rule.rule, label: rule.rule })),
    [
      { name: "blocked", color: COLORS.warn, values: rules.map((rule) => rule.blocked) },
      { name: "flagged", color: COLORS.alt, values: rules.map((rule) => rule.flagged) },
      { name: "redacted", color: COLORS.accent, values: rules.map((rule) => rule.redacted) },
    ],
    { format: count, label: "Guardrail rules", height: 200 },
  );
}

export const usageView: View = {
  id: "usage",
  title: "Usage",
  uses: { workspace: true, range: true },
  available: () => true,
  async render(root: HTMLElement, ctx: ViewContext): Promise<void> {
    root.replaceChildren(
      el("section", { className: "kpis" }),
      el(
        "section",
        { className: "grid" },
        CARDS.map((card) => el("div", { className: card.wide ? "card wide" : "card" }, [el("h2", { text: card.title }), el("div", { dataset: { chart: card.chart } })])),
      ),
    );
    const { from, to, list } = daysEndingToday(ctx.rangeDays);
    const base = `${workspacePath(ctx.workspace, "/usage")}?from=${isoDay(from)}&to=${isoDay(to)}&groupBy=`;
    const [reports, keys] = await Promise.all([
      Promise.all(GROUPINGS.map((g) => getJson(base + g, ReportSchema))),
      // Keys are shown by name; a revoked key (no longer listed) by its id.
      getJson(workspacePath(ctx.workspace, "/keys"), listOf(KeySchema)).catch(() => ({ data: [] })),
    ]);
    const byGrouping = Object.fromEntries(GROUPINGS.map((g, i) => [g, reports[i]!])) as Record<Grouping, Report>;
    render(root, byGrouping, list, Object.fromEntries(keys.data.map((k) => [k.id, k.name])));
  },
};
