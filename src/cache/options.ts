import * as z from "zod";
import { badRequest } from "../lib/errors";

/** Seconds an entry is served when a cache setting names no `ttl`. */
export const DEFAULT_CACHE_TTL_SECONDS = 3_600;
/** The longest TTL the gateway accepts (30 days): older answers are better asked again. */
export const MAX_CACHE_TTL_SECONDS = 30 * 24 * 3_600;
/** How long a follower waits for its leader to make progress before it calls upstream itself. */
export const DEFAULT_COALESCE_MAX_WAIT_MS = 30_000;

export const CacheOptionsSchema = z
  .strictObject({
    mode: z.enum(["exact", "off"]).default("exact").describe("`exact`: identical requests share one answer; `off` disables the cache here."),
    ttl: z.number().int().min(1).max(MAX_CACHE_TTL_SECONDS).default(DEFAULT_CACHE_TTL_SECONDS).describe("Seconds an entry is served."),
    includeUser: z.boolean().default(false).describe("Make the request's `user` (Anthropic: `metadata.user_id`) part of the key: users never share entries."),
    storeToolCalls: z.boolean().default(false).describe("Also store answers that ask the client to call tools (off: such answers are never cached)."),
  })
  .describe("The exact-match response cache.");
export type CacheOptions = z.infer<typeof CacheOptionsSchema>;

export const CoalesceOptionsSchema = z
  .union([
    z.boolean(),
    z.strictObject({
      enabled: z.boolean().default(true),
      maxWaitMs: z.number().int().min(50).max(600_000).default(DEFAULT_COALESCE_MAX_WAIT_MS).describe("How long a follower waits for the leader's next progress before calling upstream itself."),
    }),
  ])
  .describe("Identical requests in flight at the same time share one upstream call. Default: on wherever the cache is on.");
export type CoalesceOptions = z.infer<typeof CoalesceOptionsSchema>;

/** The per-request cache directive (`x-switchyard-cache`). */
export const CacheDirectiveSchema = z.enum(["no-store", "refresh"]);
export type CacheDirective = z.infer<typeof CacheDirectiveSchema>;

export const CACHE_HEADER = "x-switchyard-cache";
export const CACHE_TTL_HEADER = "x-switchyard-cache-ttl";
export const COALESCED_HEADER = "x-switchyard-coalesced";

/** What the response cache and coalescing do for one request, once config and headers are combined. */
export type CachePolicy = {
  /** Undefined when the cache is off for this request. */
  cache:
    | {
        ttlSeconds: number;
        includeUser: boolean;
        storeToolCalls: boolean;
        /** Look the request up before calling upstream (false for `no-store` and `refresh`). */
        read: boolean;
        /** Store the answer (false for `no-store`). */
        write: boolean;
        status: "MISS" | "REFRESH" | "BYPASS";
      }
    | undefined;
  /** Undefined when identical in-flight requests are not coalesced. */
  coalesce: { maxWaitMs: number } | undefined;
};

/** The cache and coalescing settings that apply to a request: its route's own, else the workspace's defaults. */
export type CacheSettings = { cache?: CacheOptions | undefined; coalesce?: CoalesceOptions | undefined };

const TtlHeaderSchema = z.coerce.number().int().min(1).max(MAX_CACHE_TTL_SECONDS);

function readDirective(headers: Headers): CacheDirective | undefined {
  const raw = headers.get(CACHE_HEADER);
  if (raw === null) return undefined;
  const parsed = CacheDirectiveSchema.safeParse(raw.trim().toLowerCase());
  if (!parsed.success) throw badRequest(`The ${CACHE_HEADER} header must be "no-store" or "refresh", not "${raw.slice(0, 40)}".`, CACHE_HEADER, "invalid_header");
  return parsed.data;
}

function readTtl(headers: Headers): number | undefined {
  const raw = headers.get(CACHE_TTL_HEADER);
  if (raw === null) return undefined;
  const parsed = TtlHeaderSchema.safeParse(raw.trim() === "" ? Number.NaN : raw.trim());
  if (!parsed.success) throw badRequest(`The ${CACHE_TTL_HEADER} header must be a whole number of seconds from 1 to ${MAX_CACHE_TTL_SECONDS}.`, CACHE_TTL_HEADER, "invalid_header");
  return parsed.data;
}

/**
 * Combines the route's (or workspace's) settings with the request's headers. `x-switchyard-cache-ttl` turns the
 * cache on for one request (with that TTL) even where the config leaves it off; `no-store` and `refresh` make the
 * request call upstream itself (never a follower). Undefined when neither cache nor coalescing applies, so the
 * common path pays nothing.
 */
export function cachePolicyFor(settings: CacheSettings, headers: Headers): CachePolicy | undefined {
  const directive = readDirective(headers);
  const ttlOverride = readTtl(headers);
  const configured = settings.cache?.mode === "exact" ? settings.cache : undefined;
  const enabled = configured !== undefined || ttlOverride !== undefined;
  const cache: CachePolicy["cache"] = enabled
    ? {
        ttlSeconds: ttlOverride ?? configured?.ttl ?? DEFAULT_CACHE_TTL_SECONDS,
        includeUser: configured?.includeUser ?? false,
        storeToolCalls: configured?.storeToolCalls ?? false,
        read: directive === undefined,
        write: directive !== "no-store",
        status: directive === "no-store" ? "BYPASS" : directive === "refresh" ? "REFRESH" : "MISS",
      }
    : undefined;
  const coalesceSetting = settings.coalesce ?? enabled;
  const coalesceOn = typeof coalesceSetting === "boolean" ? coalesceSetting : coalesceSetting.enabled;
  const maxWaitMs = typeof coalesceSetting === "object" ? coalesceSetting.maxWaitMs : DEFAULT_COALESCE_MAX_WAIT_MS;
  const coalesce = coalesceOn && directive === undefined ? { maxWaitMs } : undefined;
  if (!cache && !coalesce) return undefined;
  return { cache, coalesce };
}

/** What the settings are read from: a workspace config (a `GatewayConfig` is one; the config schema is built from this module). */
export type CacheSettingsSource = CacheSettings & { routes: Record<string, CacheSettings> };

/** The settings that apply to a request: its route's own where it sets them, else the workspace's defaults. */
export function cacheSettingsOf(config: CacheSettingsSource, routeName: string | undefined): CacheSettings {
  const route = routeName === undefined ? undefined : config.routes[routeName];
  return { cache: route?.cache ?? config.cache, coalesce: route?.coalesce ?? config.coalesce };
}
