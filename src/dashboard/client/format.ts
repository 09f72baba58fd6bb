/** How figures are written on the dashboard. */

export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "unpriced";
  if (value === 0) return "$0";
  if (Math.abs(value) < 0.01) return `$${value.toPrecision(3)}`;
  return `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export const usdAxis = (value: number): string => (value >= 1 ? `$${value.toFixed(2)}` : `$${Number(value.toPrecision(3))}`);

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

export const count = (value: number): string => Math.round(value).toLocaleString("en-US");

export const pct = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "–");

export const ms = (value: number | null | undefined): string => (value === null || value === undefined ? "–" : `${Math.round(value).toLocaleString("en-US")} ms`);

/** `YYYY-MM-DD` of a date, in UTC (usage days are UTC days). */
export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/** A timestamp as `YYYY-MM-DD HH:MM:SS` UTC. */
export const utcTime = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 19).replace("T", " ");
