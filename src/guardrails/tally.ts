import * as z from "zod";

/** What the rules of one request did, per rule name: matches flagged and redacted, and whether it blocked. */
export const RuleCountsSchema = z.object({
  flagged: z.number().int().nonnegative(),
  redacted: z.number().int().nonnegative(),
  blocked: z.number().int().nonnegative(),
});
export type RuleCounts = z.infer<typeof RuleCountsSchema>;

export const GuardrailCountsSchema = z.record(z.string(), RuleCountsSchema);
export type GuardrailCounts = z.infer<typeof GuardrailCountsSchema>;

export type Outcome = keyof RuleCounts;

/** The counts of one request, kept as its rules act and read once for the usage event. */
export class GuardrailTally {
  readonly #counts = new Map<string, RuleCounts>();

  add(rule: string, outcome: Outcome, count = 1): void {
    let counts = this.#counts.get(rule);
    if (!counts) this.#counts.set(rule, (counts = { flagged: 0, redacted: 0, blocked: 0 }));
    counts[outcome] += count;
  }

  get empty(): boolean {
    return this.#counts.size === 0;
  }

  toJSON(): GuardrailCounts {
    return Object.fromEntries([...this.#counts].map(([rule, counts]) => [rule, { ...counts }]));
  }
}
