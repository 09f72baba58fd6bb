import * as z from "zod";

/**
 * How long usage data stays in D1, from the deployment's settings (wrangler.toml `[vars]`): raw events (and their
 * logged bodies) for USAGE_RETENTION_DAYS, hourly rollups for USAGE_HOURLY_ROLLUP_RETENTION_DAYS; daily rollups
 * are kept. Fractions of a day are allowed (0.25 = 6 hours) for deployments whose event volume D1 cannot hold for
 * days (docs/usage.md, "Sizing").
 */
export const DEFAULT_RAW_RETENTION_DAYS = 30;
export const DEFAULT_HOURLY_ROLLUP_RETENTION_DAYS = 90;
/** The retention job runs every few minutes; a retention below an hour would delete events before they are read. */
const MIN_RETENTION_DAYS = 1 / 24;

export type RetentionSettings = { rawDays: number; hourlyDays: number };

const days = (fallback: number) =>
  z.preprocess((value) => (typeof value === "string" && value.trim() !== "" ? Number(value) : fallback), z.number().min(MIN_RETENTION_DAYS).max(36_500));

const RetentionSettingsSchema = z.object({ USAGE_RETENTION_DAYS: days(DEFAULT_RAW_RETENTION_DAYS), USAGE_HOURLY_ROLLUP_RETENTION_DAYS: days(DEFAULT_HOURLY_ROLLUP_RETENTION_DAYS) });

export function retentionSettingsOf(env: Env): RetentionSettings {
  const parsed = RetentionSettingsSchema.safeParse({ USAGE_RETENTION_DAYS: Reflect.get(env, "USAGE_RETENTION_DAYS"), USAGE_HOURLY_ROLLUP_RETENTION_DAYS: Reflect.get(env, "USAGE_HOURLY_ROLLUP_RETENTION_DAYS") });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`Invalid ${String(issue.path[0])}: ${issue.message} (a number of days, at least 1/24).`);
  }
  // Hourly rollups answer the edges of ranges the raw events no longer cover: never kept for less.
  return { rawDays: parsed.data.USAGE_RETENTION_DAYS, hourlyDays: Math.max(parsed.data.USAGE_HOURLY_ROLLUP_RETENTION_DAYS, parsed.data.USAGE_RETENTION_DAYS) };
}
