/**
 * The latency histogram kept in every usage rollup row (migrations/0003_observability.sql): bucket 0 counts
 * requests under 1 ms, bucket k (1–50) those in [UPPER_BOUNDS_MS[k-1], UPPER_BOUNDS_MS[k]), bucket 51 those of
 * 100 s or more. The bounds are the R10 preferred numbers (ten per decade, each about 1.26× the one before), so a
 * percentile read back from the histogram is within about 12% of the exact value; it is also clamped to the
 * group's own minimum and maximum.
 *
 * The rollup writer (./rollups.ts) computes the bucket in SQL — D1 has no log10 — with a CASE generated from
 * these bounds (bucketSql); test/usage/rollups.test.ts checks SQL and bucketOf agree.
 */

/** Upper bounds (ms, exclusive) of buckets 0..50; written out, not computed, so SQL and TS compare equal doubles. */
export const UPPER_BOUNDS_MS = [
  1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8,
  10, 12.5, 16, 20, 25, 31.5, 40, 50, 63, 80,
  100, 125, 160, 200, 250, 315, 400, 500, 630, 800,
  1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000,
  10000, 12500, 16000, 20000, 25000, 31500, 40000, 50000, 63000, 80000,
  100000,
] as const;

export const BUCKET_COUNT = UPPER_BOUNDS_MS.length + 1;

/** The rollup column of bucket `k`. */
export const bucketColumn = (k: number) => `lat_${String(k).padStart(2, "0")}`;
export const BUCKET_COLUMNS: readonly string[] = Array.from({ length: BUCKET_COUNT }, (_, k) => bucketColumn(k));

export function bucketOf(latencyMs: number): number {
  let low = 0;
  let high: number = UPPER_BOUNDS_MS.length;
  // The first bound the value is below; UPPER_BOUNDS_MS.length when it is at or above the last one.
  while (low < high) {
    const mid = (low + high) >> 1;
    if (latencyMs < UPPER_BOUNDS_MS[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The SQL CASE expression that buckets `column` like bucketOf (the migration's backfill used the same). */
export function bucketSql(column: string): string {
  return `CASE ${UPPER_BOUNDS_MS.map((bound, k) => `WHEN ${column} < ${bound} THEN ${k}`).join(" ")} ELSE ${UPPER_BOUNDS_MS.length} END`;
}

/**
 * Nearest-rank percentile `p` (0–100) of a histogram: the bucket holding rank ⌈p·n/100⌉, read as its geometric
 * middle and clamped to [min, max]. Null for an empty histogram.
 */
export function percentileOf(counts: readonly number[], p: number, min: number, max: number): number | null {
  const total = counts.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let k = 0; k < counts.length; k++) {
    seen += counts[k] ?? 0;
    if (seen < rank) continue;
    const estimate = k === 0 ? UPPER_BOUNDS_MS[0] / 2 : k >= UPPER_BOUNDS_MS.length ? max : Math.sqrt(UPPER_BOUNDS_MS[k - 1]! * UPPER_BOUNDS_MS[k]!);
    return Math.round(Math.min(max, Math.max(min, estimate)) * 1000) / 1000;
  }
  return max;
}
