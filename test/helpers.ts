import Anthropic from "@anthropic-ai/sdk";
import { exports } from "cloudflare:workers";
import OpenAI from "openai";
import { expect, inject } from "vitest";
import type { GatewayConfigInput } from "../src/config/schema";
import { TEST_ADMIN_TOKEN } from "./fixtures";
import type { Fault } from "./simulators/scenarios";

export const GATEWAY_ORIGIN = "http://gateway.test";

export const simulatorOrigin = () => inject("simulatorOrigin");

/** A request through the gateway's public HTTP surface (the Worker's default export). */
export const gateway = (path: string, init?: RequestInit): Promise<Response> => exports.default.fetch(new Request(`${GATEWAY_ORIGIN}${path}`, init));

export const admin = (path: string, init: RequestInit = {}): Promise<Response> =>
  gateway(`/admin${path}`, { ...init, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json", ...(init.headers as Record<string, string> | undefined) } });

const randomSuffix = () => Math.random().toString(36).slice(2, 10);

/** Provider settings pointing at the simulators, under a scenario prefix so the test can script faults. */
export function simulatorProviders(scenario: string): GatewayConfigInput["providers"] {
  const origin = simulatorOrigin();
  return {
    openai: { type: "openai", baseURL: `${origin}/s/${scenario}/openai/v1`, apiKey: { env: "OPENAI_API_KEY" } },
    anthropic: { type: "anthropic", baseURL: `${origin}/s/${scenario}/anthropic`, apiKey: { env: "ANTHROPIC_API_KEY" } },
  };
}

export type TestWorkspace = { id: string; key: string; keyId: string; scenario: string };

/**
 * A fresh workspace with its own config and key. By default both simulators are its providers (under a fresh
 * scenario) and `smart` routes to the OpenAI simulator.
 */
export async function newWorkspace(configFor?: (scenario: string) => GatewayConfigInput): Promise<TestWorkspace> {
  const id = `t-${randomSuffix()}`;
  const scenario = `sc-${randomSuffix()}`;
  const config = configFor?.(scenario) ?? {
    providers: simulatorProviders(scenario),
    routes: { smart: { strategy: "single", target: { provider: "openai", model: "gpt-4o-mini" } } },
  };
  await expectOk(admin("/workspaces", { method: "POST", body: JSON.stringify({ id, name: id }) }));
  await expectOk(admin(`/workspaces/${id}/config`, { method: "PUT", body: JSON.stringify(config) }));
  const created = (await (await expectOk(admin(`/workspaces/${id}/keys`, { method: "POST", body: JSON.stringify({ name: "test" }) }))).json()) as { id: string; key: string };
  return { id, key: created.key, keyId: created.id, scenario };
}

async function expectOk(response: Promise<Response>): Promise<Response> {
  const res = await response;
  if (!res.ok) throw new Error(`admin call failed: ${res.status} ${await res.text()}`);
  return res;
}

export async function scriptFaults(scenario: string, faults: Fault[], always?: Fault): Promise<void> {
  const res = await fetch(`${simulatorOrigin()}/_control/scenarios/${scenario}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ faults, ...(always ? { always } : {}) }) });
  if (!res.ok) throw new Error(`scripting faults failed: ${res.status}`);
}

/**
 * A request a simulator received; `at` is the simulator's clock (ms), for asserting waits without timing the test;
 * `aborted` says the gateway dropped the connection before the response was complete.
 */
export type UpstreamRequest = { method: string; path: string; headers: Record<string, string>; body: Record<string, unknown>; at: number; aborted: boolean };

export async function upstreamRequests(scenario: string): Promise<UpstreamRequest[]> {
  const res = await fetch(`${simulatorOrigin()}/_control/scenarios/${scenario}/requests`);
  return ((await res.json()) as { requests: UpstreamRequest[] }).requests;
}

/** Calls the gateway as a client would: JSON body, a gateway key. */
export const callGateway = (key: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  gateway(path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

export const workerFetch = (input: string | URL | Request, init?: RequestInit) => exports.default.fetch(new Request(input, init));

/** The official OpenAI SDK, unchanged but for its base URL (and a fetch that reaches the Worker in-process). */
export const openAIClient = (key: string, options: { maxRetries?: number } = {}) =>
  new OpenAI({ apiKey: key, baseURL: `${GATEWAY_ORIGIN}/v1`, fetch: workerFetch, maxRetries: options.maxRetries ?? 0 });

/** The official Anthropic SDK, unchanged but for its base URL. */
export const anthropicClient = (key: string) => new Anthropic({ apiKey: key, baseURL: GATEWAY_ORIGIN, fetch: workerFetch, maxRetries: 0 });

/** Reads an SSE response into its `data:` payloads (and event names). */
export async function readSSE(response: Response): Promise<{ event: string | undefined; data: string }[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((frame) => frame.trim() !== "")
    .map((frame) => {
      const lines = frame.split("\n");
      return {
        event: lines.find((l) => l.startsWith("event: "))?.slice(7),
        data: lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n"),
      };
    });
}

/** Reads a response body that must fail (never end cleanly); returns what arrived before it failed. */
export async function readUntilFailure(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  await expect(
    (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })(),
  ).rejects.toThrow();
  return text;
}
