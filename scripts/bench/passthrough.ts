import { Log, LogLevel, Miniflare } from "miniflare";

/**
 * The platform floor: a Worker that forwards every request to the upstream unchanged, on the same runtime and
 * socket arrangement as `npm start` (workerd via Miniflare, a direct socket to the Worker).
 */
const PASSTHROUGH_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.UPSTREAM + url.pathname + url.search, request);
  },
};
`;

/**
 * The floor for any gateway that reads the response (usage, cost): parse the client's JSON, send a new upstream
 * request, parse the upstream JSON and serialise a new response — and nothing else.
 */
const JSON_ROUND_TRIP_WORKER = `
export default {
  async fetch(request, env) {
    const body = JSON.parse(await request.text());
    const upstream = await fetch(env.UPSTREAM + "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-sim-bench" },
      body: JSON.stringify(body),
    });
    return Response.json(await upstream.json(), { status: upstream.status });
  },
};
`;

export async function startPassthrough(upstreamOrigin: string, compatibilityDate: string): Promise<{ url: URL; jsonUrl: URL; dispose: () => Promise<void> }> {
  const worker = (name: string, script: string) => ({
    name,
    modules: true,
    script,
    compatibilityDate,
    compatibilityFlags: ["nodejs_compat"],
    bindings: { UPSTREAM: upstreamOrigin },
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  });
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    log: new Log(LogLevel.WARN),
    workers: [worker("passthrough", PASSTHROUGH_WORKER), worker("json-round-trip", JSON_ROUND_TRIP_WORKER)],
  });
  await mf.ready;
  return { url: await mf.unsafeGetDirectURL("passthrough"), jsonUrl: await mf.unsafeGetDirectURL("json-round-trip"), dispose: () => mf.dispose() };
}
