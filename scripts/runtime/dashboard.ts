import { resolve } from "node:path";
import { build, context, type BuildOptions } from "esbuild";

/**
 * The dashboard's script: src/dashboard/client (typed browser modules) bundled into one file the Worker imports
 * as text (wrangler's default Text rule for `*.txt`; the data plane's bundler does the same) and serves as
 * /dashboard/app.js. Built by every command that runs or ships the Worker — `npm run dev` (rebuilt on change),
 * `npm start`, `npm test` (vitest.config.ts), `npm run deploy` / `build`, `npm run test:browser` — so a clean
 * clone needs nothing more than `npm ci`. The output is git-ignored.
 */
export const DASHBOARD_ENTRY = "src/dashboard/client/main.ts";
export const DASHBOARD_BUNDLE = "src/dashboard/generated/app.js.txt";

const options = (projectRoot: string): BuildOptions => ({
  entryPoints: [resolve(projectRoot, DASHBOARD_ENTRY)],
  outfile: resolve(projectRoot, DASHBOARD_BUNDLE),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});

/** Builds the bundle once; returns its path. */
export async function buildDashboard(projectRoot = process.cwd()): Promise<string> {
  await build(options(projectRoot));
  return resolve(projectRoot, DASHBOARD_BUNDLE);
}

/** Builds the bundle and rebuilds it whenever a source changes (wrangler dev then reloads the Worker); returns a stop function. */
export async function watchDashboard(projectRoot = process.cwd()): Promise<() => Promise<void>> {
  const ctx = await context(options(projectRoot));
  await ctx.rebuild();
  await ctx.watch();
  return () => ctx.dispose();
}
