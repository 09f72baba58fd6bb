import { describe, expect, it } from "vitest";
import { GatewayConfigSchema } from "../../src/config/schema";
import { RequestRecord } from "../../src/pipeline/record";
import { UsageEventSchema, usageEventOf } from "../../src/usage/event";

const config = GatewayConfigSchema.parse({
  providers: {
    openai: { type: "openai", apiKey: { env: "OPENAI_API_KEY" } },
    claude: { type: "anthropic", apiKey: { env: "ANTHROPIC_API_KEY" } },
  },
});
const identity = { requestId: "req_test", clientRequestId: null, trace: null };

function answered(provider: string, model: string, usage: Partial<RequestRecord["usage"]>): RequestRecord {
  const record = new RequestRecord("req_test", performance.now());
  record.answeredBy = { provider, model };
  record.attempts.push({ provider, model, status: 200, outcome: "success", latencyMs: 12 });
  Object.assign(record.usage, usage);
  record.finish("success");
  return record;
}

describe("usage events built from a request record", () => {
  it("a response-cache HIT costs 0 and saves what the request would have cost", () => {
    const record = answered("openai", "gpt-4o-mini", { promptTokens: 1200, completionTokens: 300 });
    record.cacheStatus = "HIT";
    const event = UsageEventSchema.parse(usageEventOf(record, identity, "ws", config));
    expect(event.costUsd).toBe(0);
    expect(event.savedTokens).toBe(1500);
    // gpt-4o-mini: $0.15 in, $0.60 out per million.
    expect(event.savedUsd).toBeCloseTo((1200 * 0.15 + 300 * 0.6) / 1e6, 15);

    const claude = answered("claude", "claude-sonnet-4-5", { promptTokens: 900, completionTokens: 100 });
    claude.cacheStatus = "HIT";
    const claudeEvent = usageEventOf(claude, identity, "ws", config);
    expect(claudeEvent.costUsd).toBe(0);
    // claude-sonnet-4-5: $3 in, $15 out per million.
    expect(claudeEvent.savedUsd).toBeCloseTo((900 * 3 + 100 * 15) / 1e6, 15);
  });

  it("a MISS costs its tokens and saves nothing", () => {
    const record = answered("openai", "gpt-4o-mini", { promptTokens: 1200, completionTokens: 300 });
    record.cacheStatus = "MISS";
    const event = usageEventOf(record, identity, "ws", config);
    expect(event.costUsd).toBeCloseTo((1200 * 0.15 + 300 * 0.6) / 1e6, 15);
    expect(event.savedUsd).toBeNull();
    expect(event.savedTokens).toBe(0);
  });

  it("prices provider-cached prompt tokens and reasoning tokens at their own rates", () => {
    // gpt-4o: $2.50 in, $1.25 cached in, $10 out (reasoning at the output price).
    const openai = usageEventOf(answered("openai", "gpt-4o", { promptTokens: 1000, cachedTokens: 400, completionTokens: 500, reasoningTokens: 200 }), identity, "ws", config);
    expect(openai.costUsd).toBeCloseTo((600 * 2.5 + 400 * 1.25 + 500 * 10) / 1e6, 15);
    // claude-sonnet-4-5 under the provider name "claude": $3 in, $0.30 cache read, $3.75 cache write, $15 out.
    const anthropic = usageEventOf(answered("claude", "claude-sonnet-4-5", { promptTokens: 1000, cachedTokens: 300, cacheWriteTokens: 200, completionTokens: 100 }), identity, "ws", config);
    expect(anthropic.costUsd).toBeCloseTo((500 * 3 + 300 * 0.3 + 200 * 3.75 + 100 * 15) / 1e6, 15);
  });

  it("an unpriced model costs null, on a HIT too", () => {
    const record = answered("openai", "my-finetune", { promptTokens: 10, completionTokens: 5 });
    expect(usageEventOf(record, identity, "ws", config).costUsd).toBeNull();
    record.cacheStatus = "HIT";
    const hit = usageEventOf(record, identity, "ws", config);
    expect(hit.costUsd).toBe(0);
    expect(hit.savedUsd).toBeNull();
  });

  it("a stream that ended without the provider's final usage is estimated upward and marked", () => {
    const record = answered("openai", "gpt-4o-mini", { promptTokens: 0, completionTokens: 0 });
    record.stream = true;
    record.promptChars = 400;
    record.completionChars = 80;
    const event = usageEventOf(record, identity, "ws", config);
    expect(event.usageEstimated).toBe(true);
    expect(event.usage.promptTokens).toBe(100);
    expect(event.usage.completionTokens).toBe(20);
  });

  it("a request nobody answered costs 0 and says which attempts failed", () => {
    const record = new RequestRecord("req_failed", performance.now());
    record.attempts.push({ provider: "openai", model: "gpt-4o-mini", status: 503, outcome: "http_error", latencyMs: 5, errorClass: "upstream_error" });
    record.finish("error", "upstream_error");
    const event = UsageEventSchema.parse(usageEventOf(record, identity, "ws", config));
    expect(event).toMatchObject({ costUsd: 0, outcome: "error", answeredBy: null, attempts: [{ status: 503, outcome: "http_error" }] });
  });
});
