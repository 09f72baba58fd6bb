import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { adminTokenWeakness, MIN_ADMIN_TOKEN_LENGTH, STRONG_TOKEN_HINT } from "../../src/policy/admin-token-strength.ts";

/**
 * The launchers' side of the admin-token rule (src/policy/admin-token-strength.ts): `npm start` and
 * `npm run deploy` refuse a weak ADMIN_TOKEN they can see, and never run with SWITCHYARD_LOCAL_DEV on, so the
 * Worker's own check (which accepts weak tokens only in local development) cannot be switched off by them.
 */

export const LOCAL_DEV_VAR = "SWITCHYARD_LOCAL_DEV";

/** The problem with an ADMIN_TOKEN found in `source`, or null (no token there is no problem: the admin API is then off). */
export function adminTokenProblem(token: unknown, source: string): string | null {
  if (typeof token !== "string" || token === "") return null;
  const weakness = adminTokenWeakness(token);
  return weakness === null ? null : `ADMIN_TOKEN from ${source} is too weak: ${weakness}. Use at least ${MIN_ADMIN_TOKEN_LENGTH} random characters (${STRONG_TOKEN_HINT}).`;
}

/** Values of a wrangler-style option given as `--name value` or `--name=value`, in order. */
export function optionValues(args: readonly string[], name: string): string[] {
  const values: string[] = [];
  args.forEach((arg, i) => {
    if (arg === `--${name}` && args[i + 1] !== undefined) values.push(args[i + 1]!);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  });
  return values;
}

/** A secrets file as `wrangler deploy --secrets-file` reads it: JSON, or .env lines. */
export function readSecretsFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  const text = readFileSync(path, "utf8");
  if (text.trimStart().startsWith("{")) return JSON.parse(text) as Record<string, unknown>;
  return parseEnv(text);
}

/**
 * What stops a deployment: SWITCHYARD_LOCAL_DEV on (in wrangler.toml's [vars] or a `--var`), or a weak
 * ADMIN_TOKEN in what the deployment uploads (a `--secrets-file`, a `--var`, or a plain [vars] entry). A token set
 * earlier with `wrangler secret put` is not visible here; the deployed Worker refuses it if it is weak.
 */
export function deploymentProblems(vars: Record<string, unknown>, args: readonly string[]): string[] {
  const problems: string[] = [];
  const cliVars = Object.fromEntries(optionValues(args, "var").map((pair) => [pair.slice(0, pair.indexOf(":")), pair.slice(pair.indexOf(":") + 1)]));
  for (const [source, value] of [["wrangler.toml [vars]", vars[LOCAL_DEV_VAR]], ["--var", cliVars[LOCAL_DEV_VAR]]] as const) {
    if (value !== undefined && value !== "") problems.push(`${LOCAL_DEV_VAR} is set (${source}); it is for \`npm run dev\` only and would let the deployed Worker accept a weak ADMIN_TOKEN.`);
  }
  const tokens: [string, unknown][] = [
    ["wrangler.toml [vars]", vars.ADMIN_TOKEN],
    ["--var", cliVars.ADMIN_TOKEN],
    ...optionValues(args, "secrets-file").map((path): [string, unknown] => [path, readSecretsFile(path).ADMIN_TOKEN]),
  ];
  for (const [source, token] of tokens) {
    const problem = adminTokenProblem(token, source);
    if (problem) problems.push(problem);
  }
  return problems;
}
