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

export async function startPassthrough(upstreamOrigin: string, compatibilityDate: string): Promise<{ url: URL; dispose: () => Promise<void> }> {
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    log: new Log(LogLevel.WARN),
    workers: [
      {
        name: "passthrough",
        modules: true,
        script: PASSTHROUGH_WORKER,
        compatibilityDate,
        compatibilityFlags: ["nodejs_compat"],
        bindings: { UPSTREAM: upstreamOrigin },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
    ],
  });
  await mf.ready;
  return { url: await mf.unsafeGetDirectURL("passthrough"), dispose: () => mf.dispose() };
}
