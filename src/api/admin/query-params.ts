import type { Context } from "hono";
import * as z from "zod";
import { badRequest } from "../../lib/errors";
import { MetadataKeySchema, METADATA_VALUE_MAX_CHARS } from "../../schema/metadata";
import type { AppEnv } from "../../types";

/** Query-string parsing shared by the usage and logs endpoints: one error shape, metadata filters, instants. */

const DAY_MS = 86_400_000;

/** An instant: an ISO date-time, or a date (a day's start for `from`, the next day's start for `to`). */
export const instant = (end: boolean) =>
  z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((text) => (text.length === 10 ? Date.parse(`${text}T00:00:00Z`) + (end ? DAY_MS : 0) : Date.parse(text)));

export function parseQuery<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = String(issue.path[0] ?? "query");
    throw badRequest(`Invalid query parameter '${param}': ${issue.message}.`, param, "invalid_query");
  }
  return parsed.data;
}

const METADATA_PARAM = /^metadata\.(.*)$/;

/** `metadata.<key>=<value>` parameters: requests whose metadata has that value for that key. */
export function metadataFiltersOf(c: Context<AppEnv>): Record<string, string> {
  const filters: Record<string, string> = {};
  for (const [name, value] of Object.entries(c.req.query())) {
    const match = METADATA_PARAM.exec(name);
    if (!match) continue;
    if (!MetadataKeySchema.safeParse(match[1]).success || value.length > METADATA_VALUE_MAX_CHARS) {
      throw badRequest(`Invalid query parameter '${name}': metadata filters are metadata.<key>=<value> with a valid metadata key.`, name, "invalid_query");
    }
    filters[match[1]!] = value;
  }
  return filters;
}
