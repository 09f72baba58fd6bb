import type * as z from "zod";
import { GatewayConfigSchema, type GatewayConfig } from "./schema";

export type ConfigIssue = { path: string; message: string };

/** `routes.smart.target.provider` style paths, as the README and error messages show them. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), "");

export const issuesOf = (error: z.ZodError): ConfigIssue[] => error.issues.map((issue) => ({ path: formatPath(issue.path) || "(root)", message: issue.message }));

export type ConfigParseResult = { ok: true; config: GatewayConfig } | { ok: false; issues: ConfigIssue[] };

/** Parses and validates a configuration document (JSON text or an already parsed value). */
export function parseConfig(input: unknown): ConfigParseResult {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      return { ok: false, issues: [{ path: "(root)", message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` }] };
    }
  }
  const parsed = GatewayConfigSchema.safeParse(value);
  return parsed.success ? { ok: true, config: parsed.data } : { ok: false, issues: issuesOf(parsed.error) };
}
