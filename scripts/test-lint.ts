import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

/**
 * `npm run test:lint`: the layer rule fails where it should. dependency-cruiser runs with the project's own
 * .dependency-cruiser.cjs over test/lint/fixture/, a miniature tree that breaks each rule once, and must exit
 * non-zero naming exactly those breaks (`npm run lint` proves the real tree has none).
 */
const fixture = resolve("test/lint/fixture");
// The same command `npm run lint` runs over src/ and durable-objects/.
const run = spawnSync(process.execPath, [resolve("node_modules/dependency-cruiser/bin/dependency-cruise.mjs"), "src", "--config", resolve(".dependency-cruiser.cjs"), "--output-type", "err"], {
  cwd: fixture,
  encoding: "utf8",
});
const output = run.stdout.replace(/\s+/g, " ");

assert.notEqual(run.status, 0, `dependency-cruiser must fail on the fixture; it exited ${run.status}\n${run.stdout}${run.stderr}`);
for (const expected of [
  "error layer-lib-imports-no-pipeline: src/lib/format.ts → src/pipeline/serve.ts",
  "error layer-routing-imports-no-pipeline: src/routing/plan.ts → src/pipeline/serve.ts",
  "error layer-schema-imports-no-routing: src/schema/wire.ts → src/routing/plan.ts",
  "error no-circular: src/usage/event.ts → src/usage/record.ts → src/usage/event.ts",
]) {
  assert.ok(output.includes(expected), `expected "${expected}" in:\n${run.stdout}`);
}
assert.match(output, /x 4 dependency violations \(4 errors, 0 warnings\)/, "the deliberate breaks and nothing else");
console.log(`ok - the layer rule fails on the fixture (exit ${run.status}): lib → pipeline, routing → pipeline, schema → routing (import type), an import-type cycle`);
