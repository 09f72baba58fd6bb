import * as z from "zod";
import { badRequest } from "../lib/errors";

/**
 * Request metadata: string tags a client attaches to a request — the `x-switchyard-metadata` header (a JSON
 * object) on every /v1 request, and the body's `metadata` on chat completions — for usage analytics, request
 * logs, traces and routing conditions. Limits follow OpenAI's own for `metadata`.
 */

/** At most this many keys per request, header and body together. */
export const METADATA_MAX_KEYS = 16;
export const METADATA_KEY_MAX_CHARS = 64;
export const METADATA_VALUE_MAX_CHARS = 512;
/** The header is refused before parsing when longer (16 keys at their limits fit with room to spare). */
export const METADATA_HEADER_MAX_CHARS = 16_384;
/** OpenAI's `user` and Anthropic's `metadata.user_id`: stored with the event, so bounded. */
export const USER_MAX_CHARS = 256;

export const METADATA_HEADER = "x-switchyard-metadata";

const KEY_PATTERN = new RegExp(`^[A-Za-z0-9_.:-]{1,${METADATA_KEY_MAX_CHARS}}$`);
const KEY_RULE = `metadata keys are 1-${METADATA_KEY_MAX_CHARS} letters, digits, _ - . or :`;

/**
 * Keys are letters, digits and `_ - . :`, so they read the same in a query string (`groupBy=metadata.team`),
 * a JSON path and a span attribute name.
 */
export const MetadataKeySchema = z.string().regex(KEY_PATTERN, KEY_RULE);

export const MetadataSchema = z
  .record(z.string(), z.string().max(METADATA_VALUE_MAX_CHARS, `metadata values are at most ${METADATA_VALUE_MAX_CHARS} characters`))
  .superRefine((metadata, ctx) => {
    const keys = Object.keys(metadata);
    if (keys.length > METADATA_MAX_KEYS) ctx.addIssue({ code: "custom", message: `at most ${METADATA_MAX_KEYS} metadata keys` });
    for (const key of keys) if (!KEY_PATTERN.test(key)) ctx.addIssue({ code: "custom", path: [key], message: KEY_RULE });
  });
export type Metadata = z.infer<typeof MetadataSchema>;

export const UserSchema = z.string().max(USER_MAX_CHARS, `at most ${USER_MAX_CHARS} characters`);

const invalidHeader = (why: string) => badRequest(`Invalid ${METADATA_HEADER} header: ${why}.`, METADATA_HEADER, "invalid_metadata");

/** The header's metadata; `{}` when absent. Anything but a JSON object of strings within the limits is a 400. */
export function metadataFromHeader(value: string | undefined): Metadata {
  if (value === undefined || value.trim() === "") return {};
  if (value.length > METADATA_HEADER_MAX_CHARS) throw invalidHeader(`longer than ${METADATA_HEADER_MAX_CHARS} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidHeader('not valid JSON (send an object of strings, e.g. {"team":"search"})');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalidHeader("it must be a JSON object of string values");
  const result = MetadataSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length > 0 ? `'${String(issue.path[0])}': ` : "";
    throw invalidHeader(`${where}${issue.code === "invalid_type" ? "values must be strings" : issue.message}`);
  }
  return result.data;
}

/** Header and body metadata as one object; the body wins a key both set. The merged set obeys the same limits. */
export function mergeMetadata(header: Metadata, body: Metadata | undefined): Metadata {
  if (!body || Object.keys(body).length === 0) return header;
  const merged = { ...header, ...body };
  if (Object.keys(merged).length > METADATA_MAX_KEYS) {
    throw badRequest(`Too many metadata keys: at most ${METADATA_MAX_KEYS}, the ${METADATA_HEADER} header and the body's metadata together.`, "metadata", "invalid_metadata");
  }
  return merged;
}
