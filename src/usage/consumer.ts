import { UsageEventSchema, type UsageEvent } from "./event";
import { writeUsageEvents } from "./store";

/** Delay before a failed message is redelivered: grows with each attempt, capped (seconds). */
export const retryDelaySeconds = (attempts: number): number => Math.min(60, 2 ** Math.max(0, attempts - 1));

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

/**
 * The `switchyard-usage` Queue consumer: writes each batch of usage events to D1. The whole batch goes in one
 * transaction; if that fails, each event is written on its own so one bad event cannot hold the others back,
 * and every event that still fails is retried by the Queue (with backoff) — after `max_retries` it lands in the
 * dead-letter queue `switchyard-usage-dlq`. Writes ignore known request ids, so redeliveries add nothing.
 * A message that is not a usage event is retried too (and so ends in the dead-letter queue, kept for
 * inspection, never silently dropped).
 */
export async function consumeUsageBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid: { message: Message<unknown>; event: UsageEvent }[] = [];
  for (const message of batch.messages) {
    const parsed = UsageEventSchema.safeParse(message.body);
    if (parsed.success) valid.push({ message, event: parsed.data });
    else {
      logError("usage message is not a usage event", { messageId: message.id, issue: parsed.error.issues[0]?.message });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  if (valid.length === 0) return;
  try {
    await writeUsageEvents(env.USAGE_DB, valid.map(({ message, event }) => ({ event, deliveryAttempts: message.attempts })));
    for (const { message } of valid) message.ack();
    return;
  } catch (error) {
    logError("usage batch write failed; writing events one by one", { size: valid.length, error: error instanceof Error ? error.message : String(error) });
  }
  await Promise.all(
    valid.map(async ({ message, event }) => {
      try {
        await writeUsageEvents(env.USAGE_DB, [{ event, deliveryAttempts: message.attempts }]);
        message.ack();
      } catch (error) {
        logError("usage event write failed; retrying through the queue", { requestId: event.requestId, attempts: message.attempts, error: error instanceof Error ? error.message : String(error) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}
