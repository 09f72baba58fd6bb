import { env } from "cloudflare:workers";
import { z } from "zod";

/** A usage_events row as the tests read it back from D1. */
export const UsageRowSchema = z.object({
  request_id: z.string(),
  client_request_id: z.string().nullable(),
  workspace_id: z.string(),
  key_id: z.string().nullable(),
  route: z.string().nullable(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  attempts: z.string(),
  attempt_count: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cached_tokens: z.number(),
  reasoning_tokens: z.number(),
  usage_estimated: z.number(),
  cost_usd: z.number().nullable(),
  cache_status: z.string().nullable(),
  saved_usd: z.number().nullable(),
  stream: z.number(),
  ttfb_ms: z.number().nullable(),
  total_ms: z.number(),
  overhead_ms: z.number(),
  status: z.number(),
  outcome: z.string(),
  rescued: z.number(),
  delivery_attempts: z.number(),
});
export type UsageRow = z.infer<typeof UsageRowSchema>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rows for a client request id (the x-request-id a test sent); waits until `count` rows are there. */
export async function usageRowsFor(clientRequestId: string, count = 1, timeoutMs = 15_000): Promise<UsageRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { results } = await env.USAGE_DB.prepare("SELECT * FROM usage_events WHERE client_request_id = ?").bind(clientRequestId).all();
    if (results.length >= count || Date.now() > deadline) return z.array(UsageRowSchema).parse(results);
    await sleep(100);
  }
}

export async function usageRowFor(clientRequestId: string): Promise<UsageRow> {
  const [row] = await usageRowsFor(clientRequestId);
  if (!row) throw new Error(`no usage event landed for ${clientRequestId}`);
  return row;
}

/** Rows of a workspace; waits until there are `count` of them. */
export async function workspaceRows(workspaceId: string, count: number, timeoutMs = 15_000): Promise<UsageRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { results } = await env.USAGE_DB.prepare("SELECT * FROM usage_events WHERE workspace_id = ?").bind(workspaceId).all();
    if (results.length >= count || Date.now() > deadline) return z.array(UsageRowSchema).parse(results);
    await sleep(100);
  }
}

export const uniqueId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 12)}`;
