import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../src/index";
import { circuitName } from "../../src/pipeline/circuits";
import type { CircuitSnapshot } from "../../src/routing/circuit";
import { CircuitBreakerSchema } from "../../src/routing/schema";
import { scriptFaults } from "../helpers";
import { BACKUP, PRIMARY, chat, countRequests, routingWorkspace } from "./setup";

const breaker = { failureThreshold: 2, cooldownMs: 1000 };
const settings = CircuitBreakerSchema.parse(breaker);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Circuit outcomes are reported after the response (waitUntil): wait for the breaker to get there. */
async function eventually(workspaceId: string, target: { provider: string; model: string }, check: (snapshot: CircuitSnapshot) => boolean): Promise<CircuitSnapshot> {
  const stub = env.CIRCUIT_BREAKER.getByName(circuitName(workspaceId, target));
  for (let i = 0; i < 100; i++) {
    const snapshot = await stub.snapshot(settings);
    if (check(snapshot)) {
      // The isolate updates its cache as the same report returns; give that continuation its turn.
      await pause(20);
      return snapshot;
    }
    await pause(50);
  }
  throw new Error(`circuit of ${target.provider}/${target.model} never reached the expected state`);
}

describe("circuit breaker", () => {
  it("opens after repeated failures, skips the target, and closes after the cool-down and a success", async () => {
    const ws = await routingWorkspace({ circuitBreaker: breaker, routes: { r: { strategy: "fallback", targets: [PRIMARY, BACKUP] } } });
    await scriptFaults(ws.primary, [], { status: 503 });

    for (let i = 0; i < 2; i++) {
      const res = await chat(ws);
      expect(res.headers.get("x-switchyard-provider")).toBe("backup");
      expect(res.headers.get("x-switchyard-attempts")).toBe("2");
    }
    const open = await eventually(ws.id, PRIMARY, (s) => s.state === "open");
    expect(open.consecutiveFailures).toBe(2);

    // Open: the primary is not even tried.
    const skipped = await chat(ws);
    expect(skipped.headers.get("x-switchyard-provider")).toBe("backup");
    expect(skipped.headers.get("x-switchyard-attempts")).toBe("1");
    expect(await countRequests(ws.primary)).toBe(2);

    // After the cool-down the circuit is half-open: one trial request reaches the recovered primary and closes it.
    await scriptFaults(ws.primary, []);
    await pause(settings.cooldownMs + 50);
    const trial = await chat(ws);
    expect(trial.headers.get("x-switchyard-provider")).toBe("primary");
    expect(trial.headers.get("x-switchyard-attempts")).toBe("1");
    const closed = await eventually(ws.id, PRIMARY, (s) => s.state === "closed");
    expect(closed.consecutiveFailures).toBe(0);
    expect((await chat(ws)).headers.get("x-switchyard-provider")).toBe("primary");

    // The state lives in the Durable Object's SQLite tables.
    const stub = env.CIRCUIT_BREAKER.getByName(circuitName(ws.id, PRIMARY));
    const rows = await runInDurableObject(stub, (instance: CircuitBreaker, state) => {
      expect(instance).toBeInstanceOf(CircuitBreaker);
      return state.storage.sql.exec<{ state: string }>("SELECT state FROM cb_state").toArray();
    });
    expect(rows).toEqual([{ state: "closed" }]);
  });

  it("with every circuit open, tries the least recently failed target instead of failing outright", async () => {
    const ws = await routingWorkspace({
      circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
      routes: { r: { strategy: "fallback", targets: [PRIMARY, BACKUP] }, b: { strategy: "single", target: BACKUP } },
    });
    await scriptFaults(ws.primary, [], { status: 503 });
    await scriptFaults(ws.backup, [], { status: 503 });
    // The backup fails first (through its own route), then the primary: the backup is the least recently failed.
    expect((await chat(ws, { model: "b" })).status).toBe(502);
    await eventually(ws.id, BACKUP, (s) => s.state === "open");
    expect((await chat(ws)).headers.get("x-switchyard-attempts")).toBe("1");
    await eventually(ws.id, PRIMARY, (s) => s.state === "open");

    await scriptFaults(ws.backup, []);
    const res = await chat(ws);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-provider")).toBe("backup");
    expect(res.headers.get("x-switchyard-attempts")).toBe("1");
    expect(await countRequests(ws.primary)).toBe(1);
  });

  it("does not count request errors (400) against the target", async () => {
    const ws = await routingWorkspace({ circuitBreaker: { failureThreshold: 1 }, routes: { r: { strategy: "fallback", targets: [PRIMARY, BACKUP] } } });
    await scriptFaults(ws.primary, [{ status: 400 }, { status: 400 }]);
    expect((await chat(ws)).status).toBe(400);
    expect((await chat(ws)).status).toBe(400);
    expect((await chat(ws)).headers.get("x-switchyard-provider")).toBe("primary");
    const snapshot = await eventually(ws.id, PRIMARY, (s) => s.windowRequests >= 1);
    expect(snapshot).toMatchObject({ state: "closed", windowFailures: 0 });
  });
});

describe("latency strategy", () => {
  it("measures targets itself and prefers the faster one", async () => {
    const ws = await routingWorkspace({ routes: { r: { strategy: "latency", targets: [PRIMARY, BACKUP] } } });
    await scriptFaults(ws.primary, [], { delayMs: 400 });
    // Unmeasured targets go first, so the first requests measure both.
    expect((await chat(ws)).headers.get("x-switchyard-provider")).toBe("primary");
    await eventually(ws.id, PRIMARY, (s) => s.latencyMs !== null);
    expect((await chat(ws)).headers.get("x-switchyard-provider")).toBe("backup");
    const backup = await eventually(ws.id, BACKUP, (s) => s.latencyMs !== null);
    const primary = await eventually(ws.id, PRIMARY, (s) => s.latencyMs !== null);
    expect(primary.latencyMs!).toBeGreaterThan(backup.latencyMs!);
    for (let i = 0; i < 3; i++) expect((await chat(ws)).headers.get("x-switchyard-provider")).toBe("backup");
  });
});
