import type { SettleInput } from "../../durable-objects/key-limiter";

/**
 * How long settlements for one limiter are collected in the isolate before one RPC carries them all. Settling
 * late is safe: until it lands the request's maximum cost stays reserved, which only ever errs on the safe side.
 */
const SETTLE_BATCH_MS = 20;

const pending = new Map<string, SettleInput[]>();

/**
 * Queues a limiter settlement. The request that opens a batch gets the promise that sends it (to await in its
 * own waitUntil); later requests join the batch and return at once, never waiting on another request's I/O.
 */
export function queueSettlement(env: Env, limiterName: string, input: SettleInput): Promise<void> | undefined {
  const batch = pending.get(limiterName);
  if (batch) {
    batch.push(input);
    return undefined;
  }
  const opened = [input];
  pending.set(limiterName, opened);
  return (async () => {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_BATCH_MS));
    pending.delete(limiterName);
    await env.KEY_LIMITER.getByName(limiterName).settleMany(opened);
  })();
}
