import { consumeUsageBatch } from "../../../src/usage/consumer";
import type { UsageEvent } from "../../../src/usage/event";
import { rollupDimsOf, writeUsageEvents } from "../../../src/usage/store";

/**
 * The usage benchmark's loader (scripts/bench-usage.ts): a Worker in the same runtime and D1 database as the
 * gateway that makes synthetic usage events and writes them through the real Queue consumer
 * (`consumeUsageBatch`: schema check, the workspace's declared metadata keys, one D1 transaction per batch with
 * the rollup triggers), in batches of the Queue's `max_batch_size`. Deterministic: event `i` is always the same.
 * `mode=bulk` writes through the same store (same statements, same triggers) in larger transactions, without
 * the consumer's per-message work: the benchmark loads the bulk of a 10-million-event history that way.
 *
 * The traffic: 50 keys of 8 teams; each key sends through one route (or direct) to two of twelve models of four
 * providers; 97% 200, 2% 429, 1% 502; lognormal latencies around 800 ms; metadata { team, feature }.
 */

/** The Queue consumer's max_batch_size (wrangler.toml); bulk mode writes this many events per transaction. */
const BATCH = 100;
const BULK_BATCH = 1_000;
/** What the benchmark's workspace declares in `usage.metadataKeys`. */
const DECLARED_KEYS = ["team"];
const PROVIDERS = [
  ["openai", ["gpt-4o-mini", "gpt-4.1", "gpt-4o"]],
  ["anthropic", ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"]],
  ["gemini", ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"]],
  ["bedrock", ["amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0", "meta.llama3-70b-instruct-v1:0"]],
] as const;
const MODELS = PROVIDERS.flatMap(([provider, models]) => models.map((model) => ({ provider, model })));
const ROUTES = ["smart", "cheap", "fast", "batch", null] as const;
const TEAMS = ["search", "ads", "mail", "maps", "docs", "photos", "pay", "cloud"];

/** A small, fast, well-mixed hash of an integer (splitmix32-style), so event i is a pure function of i. */
function mix(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
const unit = (x: number) => mix(x) / 4294967296;

export function syntheticEvent(workspaceId: string, i: number, startMs: number, spanMs: number, total: number): UsageEvent {
  const keyIndex = mix(i * 7 + 1) % 50;
  const keyProfile = mix(keyIndex + 1000);
  const model = MODELS[(keyProfile + (mix(i * 7 + 2) % 2) * 5) % MODELS.length]!;
  const route = ROUTES[keyProfile % ROUTES.length]!;
  const roll = unit(i * 7 + 3);
  const status = roll < 0.97 ? 200 : roll < 0.99 ? 429 : 502;
  const ok = status === 200;
  // Lognormal latency (Box–Muller), median ~800 ms.
  const gaussian = Math.sqrt(-2 * Math.log(unit(i * 7 + 4) || 1e-9)) * Math.cos(2 * Math.PI * unit(i * 7 + 5));
  const totalMs = Math.round(Math.exp(Math.log(800) + 0.6 * gaussian) * 10) / 10;
  const prompt = ok ? 200 + (mix(i * 7 + 6) % 3000) : 0;
  const completion = ok ? 50 + (mix(i * 7 + 7) % 800) : 0;
  const time = new Date(startMs + Math.floor((i * spanMs) / total)).toISOString();
  return {
    v: 1,
    requestId: `bench_${i.toString(36)}`,
    clientRequestId: null,
    time,
    workspaceId,
    keyId: `key_bench_${keyIndex}`,
    route,
    operation: "chat",
    attempts: [{ provider: model.provider, model: model.model, status, outcome: ok ? "success" : "http_error", latencyMs: totalMs - 2, startMs: 1 }],
    answeredBy: ok ? { provider: model.provider, model: model.model } : null,
    usage: { promptTokens: prompt, completionTokens: completion, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    usageEstimated: false,
    costUsd: ok ? (prompt * 1 + completion * 4) / 1e6 : 0,
    cacheStatus: null,
    savedTokens: 0,
    savedUsd: null,
    coalesced: false,
    stream: false,
    ttfbMs: ok ? totalMs : null,
    totalMs,
    overheadMs: 0.4,
    status,
    outcome: ok ? "success" : "error",
    errorType: ok ? null : status === 429 ? "rate_limit_error" : "upstream_error",
    rescued: false,
    metadata: { team: TEAMS[keyIndex % TEAMS.length]!, feature: `feature-${mix(i * 7 + 8) % 20}` },
    user: null,
    trace: null,
    batchId: null,
  };
}

function batchOf(events: UsageEvent[], counts: { acked: number; retried: number }): MessageBatch<unknown> {
  const messages = events.map((body, n) => ({
    id: `${body.requestId}-${n}`,
    timestamp: new Date(),
    attempts: 1,
    body,
    ack: () => void counts.acked++,
    retry: () => void counts.retried++,
  }));
  return { queue: "switchyard-usage", metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } }, messages, ackAll: () => void (counts.acked += messages.length), retryAll: () => void (counts.retried += messages.length) };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const q = new URL(request.url).searchParams;
    const num = (name: string) => Number(q.get(name));
    const [from, count, total, startMs, spanMs] = [num("from"), num("count"), num("total"), num("startMs"), num("spanMs")];
    const workspaceId = q.get("workspace") ?? "bench";
    const bulk = q.get("mode") === "bulk";
    const counts = { acked: 0, retried: 0 };
    const size = bulk ? BULK_BATCH : BATCH;
    for (let at = from; at < from + count; at += size) {
      const events: UsageEvent[] = [];
      for (let i = at; i < Math.min(at + size, from + count); i++) events.push(syntheticEvent(workspaceId, i, startMs, spanMs, total));
      if (bulk) {
        await writeUsageEvents(env.USAGE_DB, events.map((event) => ({ event, deliveryAttempts: 1, rollupDims: rollupDimsOf(event.metadata, DECLARED_KEYS) })));
        counts.acked += events.length;
      } else await consumeUsageBatch(batchOf(events, counts), env);
    }
    return Response.json(counts);
  },
} satisfies ExportedHandler<Env>;
