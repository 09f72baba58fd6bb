import * as z from "zod/mini";
import { getJson, workspacePath } from "../api";
import { el, errorLine, table } from "../dom";
import { count, isoDay, ms, usd, utcTime } from "../format";
import type { View, ViewContext } from "../view";

/**
 * The request logs view (GET …/logs, …/logs/:requestId): a workspace's requests over the header's range, newest
 * first, 50 at a time ("Older" pages on with the API's cursor), filtered by status, outcome, model, key, metadata
 * (`team=search, feature=chat`) and minimum latency; one request opened with its attempts, timings and (with
 * body logging on) bodies; and a breakdown of the same filters grouped by a dimension or any metadata key
 * (the usage API's `groupBy=metadata.<key>`).
 */

const EntrySchema = z.object({
  requestId: z.string(),
  time: z.string(),
  keyId: z.nullable(z.string()),
  route: z.nullable(z.string()),
  provider: z.nullable(z.string()),
  model: z.nullable(z.string()),
  status: z.number(),
  outcome: z.string(),
  cacheStatus: z.nullable(z.string()),
  promptTokens: z.number(),
  completionTokens: z.number(),
  costUsd: z.nullable(z.number()),
  totalMs: z.number(),
  metadata: z.record(z.string(), z.string()),
  user: z.nullable(z.string()),
});
type Entry = z.infer<typeof EntrySchema>;
const PageSchema = z.object({ data: z.array(EntrySchema), nextCursor: z.nullable(z.string()) });

const AttemptSchema = z.object({
  provider: z.string(),
  model: z.string(),
  status: z.nullable(z.number()),
  outcome: z.string(),
  latencyMs: z.number(),
  startMs: z.optional(z.number()),
  errorClass: z.optional(z.string()),
});
const DetailSchema = z.extend(EntrySchema, {
  errorType: z.nullable(z.string()),
  traceId: z.nullable(z.string()),
  attempts: z.array(AttemptSchema),
  timings: z.object({ ttfbMs: z.nullable(z.number()), totalMs: z.number(), overheadMs: z.number(), upstreamMs: z.number() }),
  bodies: z.nullable(z.object({ request: z.string(), response: z.string(), truncated: z.boolean() })),
});
type Detail = z.infer<typeof DetailSchema>;

const GroupSchema = z.object({ key: z.string(), requests: z.number(), costUsd: z.nullable(z.number()), errors: z.number(), latencyMs: z.object({ p50: z.nullable(z.number()) }) });
const BreakdownSchema = z.object({ source: z.string(), groups: z.array(GroupSchema) });

const PAGE_SIZE = 50;
const GROUPINGS = ["", "key", "route", "provider", "model", "status", "user", "metadata"] as const;
const STATUSES = ["", "2xx", "4xx", "5xx", "429"] as const;
const OUTCOMES = ["", "success", "error", "aborted"] as const;

/** `team=search, feature=chat` → pairs; a piece without `=` is refused here, the API checks keys and values. */
function metadataPairs(text: string): [string, string][] {
  return text
    .split(",")
    .map((piece) => piece.trim())
    .filter((piece) => piece.length > 0)
    .map((piece) => {
      const at = piece.indexOf("=");
      if (at <= 0) throw new Error(`Metadata filter "${piece}": write key=value.`);
      return [piece.slice(0, at).trim(), piece.slice(at + 1).trim()];
    });
}

const select = (name: string, label: string, options: readonly string[], emptyText: string) =>
  el("select", { attrs: { name, "aria-label": label } }, options.map((value) => el("option", { text: value === "" ? emptyText : value, attrs: { value } })));

const metadataText = (metadata: Record<string, string>): string =>
  Object.entries(metadata)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");

function rangeStart(days: number): string {
  const now = new Date();
  return isoDay(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1))));
}

function detailCard(detail: Detail): HTMLElement {
  const attempts = detail.attempts.map((attempt, i) => ({
    dataset: { attempt: String(i), outcome: attempt.outcome },
    cells: [String(i + 1), `${attempt.provider}/${attempt.model}`, attempt.status === null ? "–" : String(attempt.status), attempt.outcome, ms(attempt.startMs), ms(attempt.latencyMs), attempt.errorClass ?? "–"],
  }));
  const fact = (label: string, value: string) => el("div", {}, [el("span", { className: "sub", text: `${label}: ` }), value]);
  return el("section", { className: "card wide", dataset: { logDetail: detail.requestId } }, [
    el("h2", { text: `Request ${detail.requestId}` }),
    el("div", { className: "inline-form" }, [
      fact("time", utcTime(Date.parse(detail.time))),
      fact("status", `${detail.status} ${detail.outcome}${detail.errorType ? ` (${detail.errorType})` : ""}`),
      fact("answered by", detail.provider ? `${detail.provider}/${detail.model ?? ""}` : "none"),
      fact("cost", usd(detail.costUsd)),
      fact("tokens", `${count(detail.promptTokens)} + ${count(detail.completionTokens)}`),
      fact("timings", `first byte ${ms(detail.timings.ttfbMs)} · total ${ms(detail.timings.totalMs)} · upstream ${ms(detail.timings.upstreamMs)} · gateway ${ms(detail.timings.overheadMs)}`),
      fact("metadata", metadataText(detail.metadata) || "none"),
      fact("user", detail.user ?? "–"),
      fact("trace", detail.traceId ?? "–"),
    ]),
    table(["#", "Target", "Status", "Outcome", "Started", "Latency", "Error"], attempts, "No upstream attempt (answered by the gateway)."),
    ...(detail.bodies
      ? [
          el("h2", { text: `Bodies${detail.bodies.truncated ? " (truncated)" : ""}` }),
          el("pre", { dataset: { body: "request" }, text: detail.bodies.request }),
          el("pre", { dataset: { body: "response" }, text: detail.bodies.response }),
        ]
      : [el("p", { className: "sub", text: "Bodies are not logged for this workspace (config logging.bodies)." })]),
  ]);
}

async function draw(root: HTMLElement, ctx: ViewContext): Promise<void> {
  const status = select("log-status", "Status", STATUSES, "Any status");
  const outcome = select("log-outcome", "Outcome", OUTCOMES, "Any outcome");
  const model = el("input", { attrs: { name: "log-model", placeholder: "Model", "aria-label": "Model", maxlength: "200" } });
  const keyId = el("input", { attrs: { name: "log-key", placeholder: "Key id", "aria-label": "Key id", maxlength: "200" } });
  const metadata = el("input", { attrs: { name: "log-metadata", placeholder: "Metadata: team=search, …", "aria-label": "Metadata filter", size: "28" } });
  const minLatency = el("input", { attrs: { name: "log-min-latency", type: "number", min: "0", placeholder: "Min latency (ms)", "aria-label": "Minimum latency in ms" } });
  const groupBy = select("log-group-by", "Group by", GROUPINGS, "No breakdown");
  const groupKey = el("input", { attrs: { name: "log-group-key", placeholder: "metadata key", "aria-label": "Metadata key to group by", maxlength: "64" } });
  const filters = el("form", { className: "inline-form" }, [status, outcome, model, keyId, metadata, minLatency, groupBy, groupKey, el("button", { text: "Apply", attrs: { type: "submit" } })]);

  const breakdown = el("div", { dataset: { breakdown: "" } });
  const list = el("div");
  const detail = el("div");
  const older = el("button", { className: "secondary", text: "Older", attrs: { type: "button", hidden: "" } });
  const problem = errorLine();
  const from = rangeStart(ctx.rangeDays);
  let entries: Entry[] = [];
  let next: string | null = null;

  /** The filters both APIs share, as query parameters (metadata as `metadata.<key>=value`). */
  const sharedParams = (): URLSearchParams => {
    const params = new URLSearchParams({ from });
    if (status.value) params.set("status", status.value);
    if (model.value.trim()) params.set("model", model.value.trim());
    if (keyId.value.trim()) params.set("keyId", keyId.value.trim());
    for (const [key, value] of metadataPairs(metadata.value)) params.set(`metadata.${key}`, value);
    return params;
  };

  const openRequest = async (requestId: string) => {
    const found = await getJson(workspacePath(ctx.workspace, `/logs/${encodeURIComponent(requestId)}`), DetailSchema);
    detail.replaceChildren(detailCard(found));
    detail.scrollIntoView?.({ block: "nearest" });
  };

  const rowOf = (entry: Entry) => {
    const open = el("button", { className: "secondary", text: entry.requestId, attrs: { type: "button", "aria-label": `Open request ${entry.requestId}` } });
    open.addEventListener("click", () => {
      problem.element.hidden = true;
      openRequest(entry.requestId).catch(problem.show);
    });
    return {
      dataset: { requestId: entry.requestId, status: String(entry.status), outcome: entry.outcome, metadata: JSON.stringify(entry.metadata) },
      cells: [
        utcTime(Date.parse(entry.time)),
        open,
        `${entry.status} ${entry.outcome}`,
        entry.route ?? "(direct)",
        entry.provider ? `${entry.provider}/${entry.model ?? ""}` : "–",
        entry.keyId ?? "–",
        `${count(entry.promptTokens)} + ${count(entry.completionTokens)}`,
        usd(entry.costUsd),
        ms(entry.totalMs),
        entry.cacheStatus ?? "–",
        metadataText(entry.metadata) || "–",
      ],
    };
  };

  const loadPage = async (fresh: boolean) => {
    const params = sharedParams();
    params.set("limit", String(PAGE_SIZE));
    if (outcome.value) params.set("outcome", outcome.value);
    if (minLatency.value !== "") params.set("minLatencyMs", minLatency.value);
    if (!fresh && next) params.set("cursor", next);
    const page = await getJson(`${workspacePath(ctx.workspace, "/logs")}?${params}`, PageSchema);
    entries = fresh ? page.data : [...entries, ...page.data];
    next = page.nextCursor;
    list.replaceChildren(table(["Time (UTC)", "Request", "Status", "Route", "Answered by", "Key", "Tokens", "Cost", "Latency", "Cache", "Metadata"], entries.map(rowOf), "No requests match."));
    older.hidden = next === null;
  };

  const loadBreakdown = async () => {
    const dimension = groupBy.value === "metadata" ? (groupKey.value.trim() ? `metadata.${groupKey.value.trim()}` : "") : groupBy.value;
    if (!dimension) return breakdown.replaceChildren();
    const params = sharedParams();
    params.set("groupBy", dimension);
    const report = await getJson(`${workspacePath(ctx.workspace, "/usage")}?${params}`, BreakdownSchema);
    const rows = report.groups.map((g) => ({ dataset: { group: g.key, requests: String(g.requests) }, cells: [g.key, count(g.requests), usd(g.costUsd), count(g.errors), ms(g.latencyMs.p50)] }));
    breakdown.replaceChildren(
      el("h2", { text: `By ${dimension} (${report.source === "events" ? "from raw events" : "from rollups"}; status, model, key and metadata filters apply)` }),
      table([dimension, "Requests", "Spend", "Errors", "Latency p50"], rows, "Nothing in this range."),
    );
  };

  // `data-applying` marks the view while a new set of filters loads (a browser test waits for it to go).
  const apply = async () => {
    root.dataset.applying = "";
    detail.replaceChildren();
    try {
      await Promise.all([loadPage(true), loadBreakdown()]);
    } finally {
      delete root.dataset.applying;
    }
  };
  const showingErrors = (action: () => Promise<unknown>) => {
    problem.element.hidden = true;
    action().catch(problem.show);
  };
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    showingErrors(apply);
  });
  older.addEventListener("click", () => showingErrors(() => loadPage(false)));
  await apply();
  root.replaceChildren(
    el("section", { className: "card wide" }, [el("h2", { text: `Request logs of ${ctx.workspace} since ${from}` }), filters, problem.element, breakdown, list, older]),
    detail,
  );
}

export const logsView: View = {
  id: "logs",
  title: "Logs",
  uses: { workspace: true, range: true },
  available: () => true,
  render: draw,
};
