import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { build, stop } from "esbuild";

/**
 * Bundles the Worker into one ES module for workerd: the same shape `wrangler deploy` uploads (workerd resolves
 * `cloudflare:*` and, with nodejs_compat, `node:*` itself, so both stay external).
 */
export async function bundleWorker(options: { entry: string; outfile: string; define?: Record<string, string> }): Promise<string> {
  mkdirSync(dirname(options.outfile), { recursive: true });
  await build({
    entryPoints: [options.entry],
    outfile: options.outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    // wrangler's default module rule: these are imported as text (the dashboard's bundled script is one).
    loader: { ".txt": "text", ".html": "text", ".sql": "text" },
    define: options.define ?? {},
    sourcemap: "linked",
    logLevel: "warning",
  });
  // esbuild keeps a service process for further builds; the data plane builds once, so free its memory.
  await stop();
  return options.outfile;
}
