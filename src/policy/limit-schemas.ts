import * as z from "zod";

/** Limits shared by gateway keys (their records) and workspaces (the `limits` of their config document). */
export const RateLimitSchema = z
  .strictObject({
    rpm: z.number().int().positive().optional().describe("Requests per minute (sliding 60 s window)."),
    tpm: z.number().int().positive().optional().describe("Tokens per minute (prompt + completion; admission uses an estimate, settlement the real count)."),
  })
  .refine((limit) => limit.rpm !== undefined || limit.tpm !== undefined, "set rpm, tpm or both");
export type RateLimit = z.infer<typeof RateLimitSchema>;

export const BudgetSchema = z.strictObject({
  usd: z.number().positive().describe("Spend limit in USD for each period."),
  period: z.enum(["day", "month", "total"]).describe("UTC day, UTC calendar month, or for ever."),
});
export type Budget = z.infer<typeof BudgetSchema>;

export const WorkspaceLimitsSchema = z
  .strictObject({ rateLimit: RateLimitSchema.optional(), budget: BudgetSchema.optional() })
  .describe("Limits for the whole workspace, on top of each key's own (every key's requests count against them).");
export type WorkspaceLimits = z.infer<typeof WorkspaceLimitsSchema>;
