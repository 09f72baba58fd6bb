import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GatewayConfigSchema } from "../../src/config/schema";
import type { Usage } from "../../src/schema/internal";
import { ResponseAccount } from "../../src/settle/account";
import { AttemptLog, type Answer, type AttemptRecord, type Serving } from "../../src/settle/record";
import { settleRequest, type SettleFacts } from "../../src/settle/settle";
import { usageEventOf } from "../../src/settle/usage-event";
import { estimateEmbeddingsRequest } from "../../src/usage/estimate";
import { UsageEventSchema } from "../../src/usage/event";
import { cacheWorkspace, chatBody } from "../cache/support";
import { callGateway, newWorkspace, scriptFaults, simulatorOrigin } from "../helpers";
import { addKey, limiterWhen, type LimiterSnapshot } from "../tenancy/tenancy-helpers";
import { uniqueId, usageRowFor } from "../usage/usage-helpers";

const config = GatewayConfigSchema.parse({
  providers: {
    openai: { type: "openai", apiKey: { env: "OPENAI_API_KEY" } },
    claude: { type: "anthropic", apiKey: { env: "ANTHROPIC_API_KEY" } },
  },
});
const owner = { workspaceId: "ws", keyId: "k" };
const GPT_4O_MINI = (prompt: number, completion: number) => (prompt * 0.15 + completion * 0.6) / 1e6;

type Shape = { operation?: "chat" | "embeddings"; stream?: boolean; promptEstimate?: number; attempts?: AttemptRecord[] };

/** The facts a request hands the settle step, built the way the pipeline builds them. */
function facts(answer: Answer | undefined, fill: (account: ResponseAccount) => void, shape: Shape = {}, ending: Partial<SettleFacts> = {}): SettleFacts {
  const log = new AttemptLog();
  log.attempts.push(...(shape.attempts ?? (answer?.source === "upstream" ? [{ provider: answer.target.provider, model: answer.target.model, status: 200, outcome: "success" as const, latencyMs: 12 }] : [])));
  const account = new ResponseAccount();
  fill(account);
  const serving: Serving = {
    operation: shape.operation ?? "chat",
    stream: shape.stream ?? false,
    route: undefined,
    estimate: { promptTokens: shape.promptEstimate ?? 0, maxOutputTokens: undefined },
    config,
    cacheStatus: undefined,
    log,
    account,
  };
  return { requestId: "req_test", eventId: "req_test", clientRequestId: null, startedAtMs: Date.now(), serving, answer, status: 200, outcome: "success", errorType: undefined, totalMs: 20, overheadMs: 1, ...ending };
}

const completeResult = (usage: Partial<Usage>) => (account: ResponseAccount) =>
  account.result({ id: "x", model: "m", created: 0, text: "hi", toolCalls: [], finishReason: "stop", usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, ...usage } });

const upstream = (provider: string, model: string): Answer => ({ target: { provider, model }, source: "upstream" });

describe("settleRequest: one computation of tokens and cost", () => {
  it("a response-cache HIT and a coalesced follower cost 0 and save what the answer would have cost", () => {
    for (const source of ["cache", "coalesced"] as const) {
      const settled = settleRequest(facts({ target: { provider: "openai", model: "gpt-4o-mini" }, source }, completeResult({ promptTokens: 1200, completionTokens: 300 })));
      expect(settled).toMatchObject({ costUsd: 0, billedTokens: 0, savedTokens: 1500, coalesced: source === "coalesced", cacheStatus: source === "cache" ? "HIT" : null });
      expect(settled.savedUsd).toBeCloseTo(GPT_4O_MINI(1200, 300), 15);
      const event = UsageEventSchema.parse(usageEventOf(settled, owner));
      expect(event).toMatchObject({ costUsd: 0, savedTokens: 1500 });
    }
    const claude = settleRequest(facts({ target: { provider: "claude", model: "claude-sonnet-4-5" }, source: "cache" }, completeResult({ promptTokens: 900, completionTokens: 100 })));
    expect(claude.savedUsd).toBeCloseTo((900 * 3 + 100 * 15) / 1e6, 15);
  });

  it("an own upstream call costs its tokens, billed to the limiter as the same tokens and USD", () => {
    const settled = settleRequest(facts(upstream("openai", "gpt-4o-mini"), completeResult({ promptTokens: 1200, completionTokens: 300 })));
    expect(settled.costUsd).toBeCloseTo(GPT_4O_MINI(1200, 300), 15);
    expect(settled).toMatchObject({ billedTokens: 1500, savedTokens: 0, savedUsd: null, usageEstimated: false });
  });

  it("prices provider-cached prompt tokens and reasoning tokens at their own rates", () => {
    // gpt-4o: $2.50 in, $1.25 cached in, $10 out (reasoning at the output price).
    const openai = settleRequest(facts(upstream("openai", "gpt-4o"), completeResult({ promptTokens: 1000, cachedTokens: 400, completionTokens: 500, reasoningTokens: 200 })));
    expect(openai.costUsd).toBeCloseTo((600 * 2.5 + 400 * 1.25 + 500 * 10) / 1e6, 15);
    // claude-sonnet-4-5 under the provider name "claude": $3 in, $0.30 cache read, $3.75 cache write, $15 out.
    const anthropic = settleRequest(facts(upstream("claude", "claude-sonnet-4-5"), completeResult({ promptTokens: 1000, cachedTokens: 300, cacheWriteTokens: 200, completionTokens: 100 })));
    expect(anthropic.costUsd).toBeCloseTo((500 * 3 + 300 * 0.3 + 200 * 3.75 + 100 * 15) / 1e6, 15);
  });

  it("an unpriced model costs null, and 0 on a HIT", () => {
    expect(settleRequest(facts(upstream("openai", "my-finetune"), completeResult({ promptTokens: 10, completionTokens: 5 }))).costUsd).toBeNull();
    const hit = settleRequest(facts({ target: { provider: "openai", model: "my-finetune" }, source: "cache" }, completeResult({ promptTokens: 10, completionTokens: 5 })));
    expect(hit).toMatchObject({ costUsd: 0, savedUsd: null });
  });

  it("a stream that ended without the provider's final usage settles on the request's estimate, marked", () => {
    const settled = settleRequest(
      facts(
        upstream("openai", "gpt-4o-mini"),
        (account) => {
          account.event({ type: "start", id: "x", model: "m" }, 5);
          account.event({ type: "text", delta: "x".repeat(60) }, 6);
          account.event({ type: "text", delta: "世界".repeat(10) }, 7);
        },
        { stream: true, promptEstimate: 140 },
      ),
    );
    // 60 ASCII characters at 3 a token, 20 CJK characters at 1.5 tokens each.
    expect(settled).toMatchObject({ usageEstimated: true, usage: { promptTokens: 140, completionTokens: 50 }, billedTokens: 190 });
    expect(settled.costUsd).toBeCloseTo(GPT_4O_MINI(140, 50), 15);
  });

  it("embeddings from a provider that reports no count settle on the estimate, priced", () => {
    const settled = settleRequest(facts({ target: { provider: "openai", model: "text-embedding-3-small" }, source: "upstream" }, (account) => account.embeddings(null), { operation: "embeddings", promptEstimate: 500 }));
    expect(settled).toMatchObject({ usageEstimated: true, usage: { promptTokens: 500 }, billedTokens: 500 });
    expect(settled.costUsd).toBeCloseTo((500 * 0.02) / 1e6, 15);
  });

  it("a request nobody answered costs 0 and keeps its failed attempts", () => {
    const failed = { provider: "openai", model: "gpt-4o-mini", status: 503, outcome: "http_error" as const, latencyMs: 5, errorClass: "upstream_error" };
    const settled = settleRequest(facts(undefined, () => undefined, { attempts: [failed] }, { outcome: "error", errorType: "upstream_error", status: 502 }));
    const event = UsageEventSchema.parse(usageEventOf(settled, owner));
    expect(event).toMatchObject({ costUsd: 0, outcome: "error", answeredBy: null, attempts: [{ status: 503, outcome: "http_error" }] });
    expect(settled.billedTokens).toBe(0);
  });

  it("rescued: a first attempt failed and the request still succeeded", () => {
    const attempts: AttemptRecord[] = [
      { provider: "a", model: "m", status: 503, outcome: "http_error", latencyMs: 1 },
      { provider: "b", model: "m", status: 200, outcome: "success", latencyMs: 1 },
    ];
    expect(settleRequest(facts(upstream("b", "m"), completeResult({}), { attempts })).rescued).toBe(true);
    expect(settleRequest(facts(upstream("b", "m"), completeResult({}), { attempts: attempts.slice(1) })).rescued).toBe(false);
  });
});

/** The key's limiter once every request it admitted has settled (settlement rides on the next exchange, within REPORT_FLUSH_MS). */
const settledKey = (ws: { id: string }, keyId: string, ready: (s: LimiterSnapshot) => boolean = () => true) =>
  limiterWhen(ws.id, keyId, (s) => s.reservations === 0 && s.spend.length > 0 && ready(s));

type CostRow = { cost_usd: number | null; prompt_tokens: number; completion_tokens: number; usage_estimated: number; coalesced: number; saved_tokens: number };
async function costRows(clientRequestIds: string[]): Promise<CostRow[]> {
  const rows = await Promise.all(clientRequestIds.map((id) => usageRowFor(id)));
  return Promise.all(rows.map(async (row) => (await env.USAGE_DB.prepare("SELECT cost_usd, prompt_tokens, completion_tokens, usage_estimated, coalesced, saved_tokens FROM usage_events WHERE request_id = ?").bind(row.request_id).first<CostRow>())!));
}

const LIMITED = { budget: { usd: 5, period: "month" }, rateLimit: { tpm: 10_000_000 } };

describe("the usage event and the limiter settle the same cost (through the gateway)", () => {
  it("a coalesced follower: $0 and no tokens in both; the leader's call is charged once", async () => {
    const ws = await cacheWorkspace();
    const key = await addKey(ws.id, LIMITED);
    await scriptFaults(ws.scenario, [], { delayMs: 300 });
    const ids = [uniqueId("lead"), uniqueId("follow")];
    const responses = await Promise.all(ids.map((id) => callGateway(key.key, "/v1/chat/completions", chatBody("coalesced", "Share one answer", { max_tokens: 50 }), { "x-request-id": id })));
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(responses.filter((r) => r.headers.get("x-switchyard-coalesced") === "true")).toHaveLength(1);
    const rows = await costRows(ids);
    const follower = rows.find((row) => row.coalesced === 1)!;
    const leader = rows.find((row) => row.coalesced === 0)!;
    expect(follower.cost_usd).toBe(0);
    expect(follower.saved_tokens).toBe(leader.prompt_tokens + leader.completion_tokens);
    expect(leader.cost_usd).toBeGreaterThan(0);
    const limiter = await settledKey(ws, key.id, (s) => s.tokensInWindow === leader.prompt_tokens + leader.completion_tokens);
    expect(limiter.spend[0]!.usd).toBeCloseTo(leader.cost_usd!, 15);
  });

  it("a stream cut off before the provider's usage: the same estimated tokens and cost in both", async () => {
    const ws = await newWorkspace();
    const key = await addKey(ws.id, LIMITED);
    await scriptFaults(ws.scenario, [{ dropAfterEvents: 5, drop: "abort", chunkDelayMs: 10 }]);
    const id = uniqueId("cut");
    const body = { model: "openai/gpt-4o-mini", stream: true, max_tokens: 200, messages: [{ role: "user", content: "Please write a long answer about limits" }] };
    await (await callGateway(key.key, "/v1/chat/completions", body, { "x-request-id": id })).text().catch(() => "");
    const [row] = await costRows([id]);
    expect(row!.usage_estimated).toBe(1);
    expect(row!.cost_usd).toBeGreaterThan(0);
    const limiter = await settledKey(ws, key.id, (s) => s.tokensInWindow === row!.prompt_tokens + row!.completion_tokens);
    expect(limiter.spend[0]!.usd).toBeCloseTo(row!.cost_usd!, 15);
  });

  it("Gemini embeddings (no token count from the provider): estimated, priced, and charged to the budget alike", async () => {
    const ws = await newWorkspace((scenario) => ({ providers: { gemini: { type: "gemini", baseURL: `${simulatorOrigin()}/s/${scenario}/gemini`, apiKey: { env: "GEMINI_API_KEY" } } } }));
    const key = await addKey(ws.id, LIMITED);
    const id = uniqueId("embed");
    const input = ["alpha beta gamma", "the quick brown fox jumps over the lazy dog", "嵌入向量"];
    const res = await callGateway(key.key, "/v1/embeddings", { model: "gemini/gemini-embedding-001", input }, { "x-request-id": id });
    expect(res.status).toBe(200);
    const estimate = estimateEmbeddingsRequest({ input }).promptTokens;
    expect(((await res.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(estimate);
    const [row] = await costRows([id]);
    // gemini-embedding-001: $0.15 per million input tokens.
    expect(row).toMatchObject({ usage_estimated: 1, prompt_tokens: estimate });
    expect(row!.cost_usd).toBeCloseTo((estimate * 0.15) / 1e6, 15);
    const limiter = await settledKey(ws, key.id, (s) => s.tokensInWindow === estimate);
    expect(limiter.spend[0]!.usd).toBeCloseTo(row!.cost_usd!, 15);
  });
});
