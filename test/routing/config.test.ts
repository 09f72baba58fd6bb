import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/validate";
import { targetsOf } from "../../src/routing/schema";

const providers = { openai: { type: "openai", apiKey: { env: "OPENAI_API_KEY" } }, anthropic: { type: "anthropic", apiKey: { env: "ANTHROPIC_API_KEY" } } };
const A = { provider: "openai", model: "gpt-4o" };

describe("route config", () => {
  it("accepts every strategy and fills retry and breaker defaults", () => {
    const parsed = parseConfig({
      providers,
      routes: {
        a: { strategy: "single", target: A },
        b: { strategy: "fallback", targets: [A, { route: "a" }], retry: { attempts: 3, on: [429, "timeout"] }, timeout: { connectMs: 1000, totalMs: 30000 } },
        c: { strategy: "loadbalance", targets: [{ ...A, weight: 2 }, { provider: "anthropic", model: "claude-haiku-4-5", weight: 1 }] },
        d: { strategy: "conditional", rules: [{ when: { field: "header.x-tier", equals: "pro" }, then: { route: "b" } }], default: A },
        e: { strategy: "cost", targets: [A] },
        f: { strategy: "latency", targets: [A] },
      },
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config.routes.b?.retry).toEqual({ attempts: 3, on: [429, "timeout"], backoff: { initialMs: 250, maxMs: 10_000, multiplier: 2, jitter: "full" } });
    expect(parsed.config.circuitBreaker).toEqual({ enabled: true, failureThreshold: 5, windowMs: 60_000, minRequests: 20, failureRate: 0.5, cooldownMs: 30_000 });
    expect(targetsOf(parsed.config.routes.d!)).toEqual([A]);
    expect(targetsOf(parsed.config.routes.c!)).toHaveLength(2);
  });

  it("rejects a cycle between routes with the path of the entry closing it", () => {
    const parsed = parseConfig({
      providers,
      routes: {
        a: { strategy: "fallback", targets: [A, { route: "b" }] },
        b: { strategy: "conditional", rules: [{ when: { field: "model", equals: "x" }, then: { route: "a" } }], default: A },
      },
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues).toEqual([{ path: "routes.b.rules[0].then.route", message: "route cycle: a → b → a" }]);
  });

  it("rejects a route referring to itself and unknown routes and providers", () => {
    const parsed = parseConfig({
      providers,
      routes: { a: { strategy: "fallback", targets: [{ route: "a" }, { route: "nope" }, { provider: "ghost", model: "m" }] } },
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues).toEqual(
      expect.arrayContaining([
        { path: "routes.a.targets[0].route", message: "route cycle: a → a" },
        { path: "routes.a.targets[1].route", message: 'unknown route "nope"' },
        { path: "routes.a.targets[2].provider", message: 'unknown provider "ghost"' },
      ]),
    );
  });

  it("rejects retry on statuses that are never retried, bad regexes and operator-less conditions", () => {
    const parsed = parseConfig({
      providers,
      routes: {
        a: { strategy: "single", target: A, retry: { on: [400] } },
        b: { strategy: "conditional", rules: [{ when: { field: "model", matches: "(" }, then: A }, { when: { field: "header.x" }, then: A }], default: A },
        c: { strategy: "cost", targets: [{ route: "a" }] },
      },
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const paths = parsed.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["routes.a.retry.on[0]", "routes.b.rules[0].when.matches", "routes.b.rules[1].when"]));
    expect(paths.some((path) => path.startsWith("routes.c.targets[0]"))).toBe(true);
  });
});
