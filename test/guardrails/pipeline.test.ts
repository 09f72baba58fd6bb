import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { GatewayConfigInput } from "../../src/config/schema";
import { admin, callGateway, newWorkspace, readSSE, scriptFaults, simulatorProviders, upstreamRequests, type TestWorkspace } from "../helpers";

/**
 * Guardrails through the HTTP surface, on both dialects, streamed and not, against the simulators (which echo
 * the prompt: "Hello from the simulator. You said: …", or say a scripted text).
 */

const SECRET = "sk-proj-abcdefghijklmnopqrstuvwx1234";
const target = { provider: "openai", model: "gpt-4o-mini" };
const single = { strategy: "single" as const, target };

function guardedConfig(scenario: string): GatewayConfigInput {
  return {
    providers: simulatorProviders(scenario),
    routes: { standard: single, restore: single, strict: single, watch: single, open: single, small: single },
    guardrails: {
      policies: {
        standard: {
          input: [{ name: "pii", detect: ["email", "phone"], action: "redact" }],
          output: [{ name: "pii-out", detect: ["email", "phone"], action: "redact" }],
        },
        restore: { input: [{ name: "pii", detect: ["email", "card"], action: "redact" }], restore: true },
        strict: {
          input: [{ name: "no-cards", detect: ["card"], action: "block" }],
          output: [{ name: "no-secrets", detect: ["secret"], action: "block" }],
        },
        watch: {
          input: [{ name: "watch-ip", detect: ["ip"], action: "flag" }],
          output: [{ name: "watch-words", deny: { words: ["apollo"] }, action: "flag" }],
        },
        small: { input: [{ name: "max-size", maxChars: 40, action: "block" }] },
      },
      default: "standard",
      routes: { restore: "restore", strict: "strict", watch: "watch", open: null, small: "small" },
    },
  };
}

type Dialect = { name: string; path: string };
const DIALECTS: Dialect[] = [
  { name: "OpenAI chat", path: "/v1/chat/completions" },
  { name: "Anthropic messages", path: "/v1/messages" },
];

type Answer = { status: number; text: string; error: { type: string; message: string } | undefined; failed: boolean; raw: string };

const ErrorBody = z.object({ error: z.object({ type: z.string(), message: z.string() }) });

/** Calls a route in a dialect and reads the answer's text, or its error, however it came (JSON or a stream). */
async function ask(ws: TestWorkspace, dialect: Dialect, model: string, content: string, stream: boolean, requestId?: string): Promise<Answer> {
  const body = { model, stream, messages: [{ role: "user", content }], ...(dialect.path === "/v1/messages" ? { max_tokens: 200 } : {}) };
  const res = await callGateway(ws.key, dialect.path, body, requestId ? { "x-request-id": requestId } : {});
  if (!res.headers.get("content-type")?.startsWith("text/event-stream")) {
    const json: unknown = await res.json();
    const error = ErrorBody.safeParse(json);
    if (error.success) return { status: res.status, text: "", error: error.data.error, failed: false, raw: JSON.stringify(json) };
    const text = dialect.path === "/v1/messages" ? z.object({ content: z.array(z.object({ text: z.string() })) }).parse(json).content[0]!.text : z.object({ choices: z.array(z.object({ message: z.object({ content: z.string() }) })) }).parse(json).choices[0]!.message.content;
    return { status: res.status, text, error: undefined, failed: false, raw: JSON.stringify(json) };
  }
  // Read by hand: a stream that fails keeps what arrived before it failed.
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = "";
  let failed = false;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) raw += decoder.decode(chunk.value, { stream: true });
  } catch {
    failed = true;
  }
  const frames = await readSSE(new Response(raw));
  let text = "";
  let error: Answer["error"];
  for (const frame of frames) {
    if (frame.data === "[DONE]") continue;
    const data = JSON.parse(frame.data) as { error?: { type: string; message: string }; choices?: { delta?: { content?: string } }[]; delta?: { type?: string; text?: string } };
    if (data.error) error = data.error;
    text += data.choices?.[0]?.delta?.content ?? (data.delta?.type === "text_delta" ? (data.delta.text ?? "") : "");
  }
  return { status: res.status, text, error, failed, raw };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The guardrail counts stored for a request (by the x-request-id the test sent), once its usage event landed. */
async function guardrailCounts(requestId: string, rules: number): Promise<Record<string, { flagged: number; redacted: number; blocked: number }>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { results } = await env.USAGE_DB.prepare(
      "SELECT g.rule, g.flagged, g.redacted, g.blocked FROM usage_guardrails g JOIN usage_events e ON e.request_id = g.request_id WHERE e.client_request_id = ?",
    )
      .bind(requestId)
      .all<{ rule: string; flagged: number; redacted: number; blocked: number }>();
    if (results.length >= rules || Date.now() > deadline) return Object.fromEntries(results.map(({ rule, ...counts }) => [rule, counts]));
    await sleep(100);
  }
}

const requestId = () => `guard-${Math.random().toString(36).slice(2, 12)}`;
const lastUserText = (body: Record<string, unknown>) => JSON.stringify(body.messages);

describe.each(DIALECTS)("guardrails on $name", (dialect) => {
  describe.each([false, true])("stream: %s", (stream) => {
    it("redact: the provider sees typed placeholders, the client the answer with output matches redacted", async () => {
      const ws = await newWorkspace(guardedConfig);
      const id = requestId();
      const answer = await ask(ws, dialect, "standard", "Write to jane.doe@example.com or +1 415 555 0100", stream, id);
      expect(answer.status).toBe(200);
      const [upstream] = await upstreamRequests(ws.scenario);
      expect(lastUserText(upstream!.body)).toContain("Write to [EMAIL_1] or [PHONE_1]");
      expect(lastUserText(upstream!.body)).not.toContain("jane.doe");
      expect(answer.text).toBe("Hello from the simulator. You said: Write to [EMAIL_1] or [PHONE_1]");
      expect(await guardrailCounts(id, 1)).toEqual({ pii: { flagged: 0, redacted: 2, blocked: 0 } });

      // An answer that names an address and a phone number (streamed in pieces across the number's spaces).
      await scriptFaults(ws.scenario, [{ text: "Ask bob@example.org or call +44 20 7946 0958 today." }]);
      const output = await ask(ws, dialect, "standard", "Who can help?", stream);
      expect(output.text).toBe("Ask [EMAIL_1] or call [PHONE_1] today.");
    });

    it("restore: placeholders in the answer are mapped back for this request only", async () => {
      const ws = await newWorkspace(guardedConfig);
      const answer = await ask(ws, dialect, "restore", "My card 4111 1111 1111 1111, mail jane@example.com", stream);
      const [upstream] = await upstreamRequests(ws.scenario);
      expect(lastUserText(upstream!.body)).toContain("My card [CARD_1], mail [EMAIL_1]");
      expect(answer.text).toBe("Hello from the simulator. You said: My card 4111 1111 1111 1111, mail jane@example.com");
      // A placeholder this request did not issue is left alone.
      await scriptFaults(ws.scenario, [{ text: "See [EMAIL_1] and [EMAIL_2]." }]);
      const other = await ask(ws, dialect, "restore", "Mail amy@example.com", stream);
      expect(other.text).toBe("See amy@example.com and [EMAIL_2].");
    });

    it("block on input: 400 naming the rule, never the match, and no upstream call", async () => {
      const ws = await newWorkspace(guardedConfig);
      const id = requestId();
      const answer = await ask(ws, dialect, "strict", "Charge 4111 1111 1111 1111 please", stream, id);
      expect(answer.status).toBe(400);
      expect(answer.error?.type).toBe(dialect.path === "/v1/messages" ? "invalid_request_error" : "guardrail");
      expect(answer.error?.message).toContain('guardrail rule "no-cards"');
      expect(answer.raw).not.toContain("4111");
      expect(await upstreamRequests(ws.scenario)).toHaveLength(0);
      expect(await guardrailCounts(id, 1)).toEqual({ "no-cards": { flagged: 0, redacted: 0, blocked: 1 } });
    });

    it("block on output: the answer is refused, mid-stream with an error event and a failed stream", async () => {
      const ws = await newWorkspace(guardedConfig);
      await scriptFaults(ws.scenario, [{ text: `Sure, the key is ${SECRET} as asked.` }]);
      const answer = await ask(ws, dialect, "strict", "What is the key?", stream);
      expect(answer.raw).not.toContain(SECRET);
      if (!stream) {
        expect(answer.status).toBe(400);
        expect(answer.error?.message).toContain('guardrail rule "no-secrets"');
        return;
      }
      expect(answer.status).toBe(200);
      // What came before the match went out; then the dialect's error event, then a failed stream — never a clean end.
      expect(answer.text).toBe("Sure, the key is ");
      expect(answer.error?.message).toContain('guardrail rule "no-secrets"');
      expect(answer.failed).toBe(true);
      expect(answer.raw).not.toMatch(/\[DONE\]|message_stop/);
    });

    it("flag: passes unchanged, is counted per rule on the usage event and logged without the match", async () => {
      const log = vi.spyOn(console, "log");
      const ws = await newWorkspace(guardedConfig);
      await scriptFaults(ws.scenario, [{ text: "The Apollo program, then apollo again." }]);
      const id = requestId();
      const answer = await ask(ws, dialect, "watch", "Server 10.0.0.1 and 192.168.1.20", stream, id);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe("The Apollo program, then apollo again.");
      const [upstream] = await upstreamRequests(ws.scenario);
      expect(lastUserText(upstream!.body)).toContain("Server 10.0.0.1 and 192.168.1.20");
      expect(await guardrailCounts(id, 2)).toEqual({ "watch-ip": { flagged: 2, redacted: 0, blocked: 0 }, "watch-words": { flagged: 2, redacted: 0, blocked: 0 } });
      const lines = log.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('"message":"guardrails"') && line.includes(ws.id));
      log.mockRestore();
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", rules: { "watch-ip": { flagged: 2 }, "watch-words": { flagged: 2 } } });
      expect(lines[0]).not.toMatch(/10\.0\.0\.1|apollo/i);
    });
  });
});

describe("which policy applies", () => {
  it("the key's, else the route's, else the workspace default; and the maximum prompt size", async () => {
    const ws = await newWorkspace(guardedConfig);
    const openai = DIALECTS[0]!;
    const email = "Reach jane@example.com";
    // Default policy on a route without its own and on a direct provider/model.
    for (const model of ["standard", "openai/gpt-4o-mini"]) await ask(ws, openai, model, email, false);
    // A route with `null`: no guardrails.
    await ask(ws, openai, "open", email, false);
    const sent = (await upstreamRequests(ws.scenario)).map((r) => lastUserText(r.body));
    expect(sent[0]).toContain("[EMAIL_1]");
    expect(sent[1]).toContain("[EMAIL_1]");
    expect(sent[2]).toContain("jane@example.com");

    const tooLong = await ask(ws, openai, "small", "x".repeat(41), false);
    expect(tooLong.status).toBe(400);
    expect(tooLong.error?.message).toContain('"max-size"');
    expect((await ask(ws, openai, "small", "x".repeat(40), false)).status).toBe(200);

    // The key's own policy wins over the route's.
    const config = guardedConfig(ws.scenario);
    config.guardrails!.keys = { [ws.keyId]: "strict" };
    const put = await admin(`/workspaces/${ws.id}/config`, { method: "PUT", body: JSON.stringify(config) });
    expect(put.status).toBe(200);
    const blocked = await ask(ws, openai, "open", "card 4111 1111 1111 1111", false);
    expect(blocked.status).toBe(400);
    expect(blocked.error?.message).toContain('"no-cards"');
  });

  it("an invalid guardrails section is refused by the admin API with the field's path", async () => {
    const ws = await newWorkspace();
    const config = guardedConfig(ws.scenario);
    config.guardrails!.policies.standard!.input = [{ name: "bad", deny: { patterns: ["(a+)+$"] }, action: "block" }];
    const res = await admin(`/workspaces/${ws.id}/config`, { method: "PUT", body: JSON.stringify(config) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("guardrails.policies.standard.input[0].deny.patterns[0]");
  });
});

describe("the usage API", () => {
  it("reports flagged, redacted and blocked counts per rule", async () => {
    const ws = await newWorkspace(guardedConfig);
    const openai = DIALECTS[0]!;
    await ask(ws, openai, "watch", "host 10.0.0.1", false);
    await ask(ws, openai, "strict", "card 4111 1111 1111 1111", true);
    await ask(ws, openai, "standard", "mail a@example.com and b@example.com", false);
    const deadline = Date.now() + 15_000;
    let report: { guardrails: { rule: string; requests: number; flagged: number; redacted: number; blocked: number }[] } = { guardrails: [] };
    while (Date.now() < deadline) {
      report = (await (await admin(`/workspaces/${ws.id}/usage`)).json()) as typeof report;
      if (report.guardrails.length >= 3) break;
      await sleep(150);
    }
    expect(report.guardrails).toEqual([
      { rule: "no-cards", requests: 1, flagged: 0, redacted: 0, blocked: 1 },
      { rule: "watch-ip", requests: 1, flagged: 1, redacted: 0, blocked: 0 },
      { rule: "pii", requests: 1, flagged: 0, redacted: 2, blocked: 0 },
    ]);
  });
});

describe("embeddings", () => {
  it("input rules apply to what is embedded: redacted before the provider sees it, or refused", async () => {
    const ws = await newWorkspace(guardedConfig);
    const ok = await callGateway(ws.key, "/v1/embeddings", { model: "standard", input: ["mail jane@example.com", "plain text"] });
    expect(ok.status).toBe(200);
    const [upstream] = await upstreamRequests(ws.scenario);
    expect(upstream!.body.input).toEqual(["mail [EMAIL_1]", "plain text"]);
    const refused = await callGateway(ws.key, "/v1/embeddings", { model: "strict", input: "card 4111 1111 1111 1111" });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('"no-cards"');
    expect(await upstreamRequests(ws.scenario)).toHaveLength(1);
  });
});
