import type { RequestShape } from "./load.ts";
import { CACHED_ROUTE, GUARDED_ROUTE, PORTKEY_HEADERS, ROUTE, type Targets } from "./targets.ts";

/** One measured configuration: where the requests go and what they look like. */
export type BenchCase = {
  id: string;
  label: string;
  /** Why the case did not run, when it could not ("n/a (feature missing)"). */
  skipped?: string;
  note?: string;
  /** Measured at 50 connections (throughput) and at 1 (added latency), or only at 1 for streaming TTFB. */
  phases: ("throughput" | "latency")[];
  /** Which process serves the case (its CPU time per request is reported). */
  server: keyof Targets["pids"];
  /** Prepares the case (e.g. primes the cache) and returns the request shape. */
  load?: () => Promise<RequestShape>;
};

const JSON_HEADERS = { "content-type": "application/json" };
const chatBody = (model: string, content = "Say hello.", stream = false) =>
  JSON.stringify({ model, messages: [{ role: "user", content }], ...(stream ? { stream: true } : {}) });

export function benchCases(t: Targets, runId: string): BenchCase[] {
  const gatewayHeaders = { ...JSON_HEADERS, authorization: `Bearer ${t.key}` };
  const gatewayChat = (body: RequestShape["body"], extra: Partial<RequestShape> = {}) => async (): Promise<RequestShape> => ({
    origin: t.gateway,
    path: "/v1/chat/completions",
    headers: gatewayHeaders,
    body,
    ...extra,
  });
  const cacheMissing = t.cachedRoute ? undefined : "n/a (feature missing: this build's config does not accept routes.*.cache)";
  const guardrailsMissing = t.guardedRoute ? undefined : "n/a (feature missing: this build's config does not accept guardrails)";

  return [
    {
      id: "a-direct",
      server: "upstream",
      label: "(a) direct to the simulator",
      phases: ["throughput", "latency"],
      load: async () => ({ origin: t.upstream, path: "/v1/chat/completions", headers: JSON_HEADERS, body: chatBody("gpt-4o-mini") }),
    },
    {
      id: "b-passthrough",
      server: "passthrough",
      label: "(b) bare pass-through Worker",
      phases: ["throughput", "latency"],
      load: async () => ({ origin: t.passthrough, path: "/v1/chat/completions", headers: JSON_HEADERS, body: chatBody("gpt-4o-mini") }),
    },
    {
      id: "b-json-round-trip",
      server: "passthrough",
      label: "(b') JSON round-trip Worker",
      note: "parse + new upstream request + parse + serialise, nothing else: the floor for a gateway that reads usage",
      phases: ["throughput", "latency"],
      load: async () => ({ origin: t.jsonRoundTrip, path: "/v1/chat/completions", headers: JSON_HEADERS, body: chatBody("gpt-4o-mini") }),
    },
    {
      id: "c-always-on",
      server: "gateway",
      label: "(c) Switchyard always-on path",
      note:
        t.keyLimits === "on"
          ? "key auth + rpm + tpm + budget on the key (leased admission), usage events; the hot key: its KeyLimiter calls per 1,000 requests are counted"
          : "key auth, and usage events if this build emits them; no key limits (this build's admin API refused rateLimit/budget)",
      phases: ["throughput", "latency"],
      load: gatewayChat(chatBody(ROUTE)),
    },
    {
      id: "c-no-limits",
      server: "gateway",
      label: "(c') always-on, key without limits",
      note: "key auth and usage events; no limiter at all",
      phases: ["throughput", "latency"],
      load: async () => ({ origin: t.gateway, path: "/v1/chat/completions", headers: { ...JSON_HEADERS, authorization: `Bearer ${t.plainKey}` }, body: chatBody(ROUTE) }),
    },
    {
      id: "d-cache-miss",
      server: "gateway",
      label: "(d) cache miss (lookup + write)",
      ...(cacheMissing ? { skipped: cacheMissing } : {}),
      phases: ["throughput", "latency"],
      load: gatewayChat((sequence: number) => chatBody(CACHED_ROUTE, `Say hello ${runId}-${sequence}.`), { countHeader: "x-switchyard-cache" }),
    },
    {
      id: "e-cache-hit",
      server: "gateway",
      label: "(e) cache hit",
      ...(cacheMissing ? { skipped: cacheMissing } : {}),
      phases: ["throughput", "latency"],
      load: async () => {
        const body = chatBody(CACHED_ROUTE, `Say hello ${runId} (cached).`);
        await primeCache(t.gateway, gatewayHeaders, body);
        return { origin: t.gateway, path: "/v1/chat/completions", headers: gatewayHeaders, body, countHeader: "x-switchyard-cache" };
      },
    },
    {
      id: "f-stream-direct",
      server: "upstream",
      label: "(f) stream TTFB, direct",
      phases: ["latency"],
      load: async () => ({ origin: t.upstream, path: "/v1/chat/completions", headers: JSON_HEADERS, body: chatBody("gpt-4o-mini", "Say hello.", true) }),
    },
    {
      id: "f-stream-passthrough",
      server: "passthrough",
      label: "(f) stream TTFB, pass-through",
      phases: ["latency"],
      load: async () => ({ origin: t.passthrough, path: "/v1/chat/completions", headers: JSON_HEADERS, body: chatBody("gpt-4o-mini", "Say hello.", true) }),
    },
    {
      id: "f-stream-gateway",
      server: "gateway",
      label: "(f) stream TTFB, Switchyard",
      phases: ["latency"],
      load: gatewayChat(chatBody(ROUTE, "Say hello.", true)),
    },
    {
      id: "h-guardrails",
      server: "gateway",
      label: "(h) always-on path + guardrails",
      note: "(c) with every built-in detector (email, phone, card, IBAN, SSN, IP, secrets) redacting on input and output",
      ...(guardrailsMissing ? { skipped: guardrailsMissing } : {}),
      phases: ["throughput", "latency"],
      load: gatewayChat(chatBody(GUARDED_ROUTE)),
    },
    {
      id: "i-stream-guardrails",
      server: "gateway",
      label: "(i) stream TTFB, Switchyard + guardrails",
      ...(guardrailsMissing ? { skipped: guardrailsMissing } : {}),
      phases: ["latency"],
      load: gatewayChat(chatBody(GUARDED_ROUTE, "Say hello.", true)),
    },
    {
      id: "g-portkey",
      server: "portkey",
      label: "(g) Portkey gateway (Node)",
      ...(t.portkey ? {} : { skipped: "skipped (--no-portkey)" }),
      phases: ["throughput", "latency"],
      load: async () => ({ origin: t.portkey!, path: "/v1/chat/completions", headers: { ...JSON_HEADERS, ...PORTKEY_HEADERS(t.upstream) }, body: chatBody("gpt-4o-mini") }),
    },
  ];
}

/** Sends the request until the gateway answers it from the cache (the write happens after the first response). */
async function primeCache(gateway: string, headers: Record<string, string>, body: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${gateway}/v1/chat/completions`, { method: "POST", headers, body });
    await response.arrayBuffer();
    if (response.headers.get("x-switchyard-cache")?.toUpperCase() === "HIT") return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
