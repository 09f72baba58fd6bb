import { UsageMessageSchema, eventsOf, type UsageEvent } from "./event";
import { writeUsageEvents } from "./store";

/** Delay before a failed message is redelivered: grows with each attempt, capped (seconds). */
export const retryDelaySeconds = (attempts: number): number => Math.min(60, 2 ** Math.max(0, attempts - 1));

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

type Delivery = { message: Message<unknown>; events: UsageEvent[] };

const rowsOf = (deliveries: readonly Delivery[]) => deliveries.flatMap(({ message, events }) => events.map((event) => ({ event, deliveryAttempts: message.attempts })));

/**
 * The `switchyard-usage` Queue consumer: writes each batch of usage events to D1. A message carries the events one
 * isolate flushed together (or, from earlier versions, one event). The whole batch goes in one transaction; if
 * that fails, each message is written on its own, and within a failing message each event, so one bad event
 * cannot hold the others back. A message with an event that still fails is retried by the Queue (with backoff;
 * its events that did land are ignored on redelivery, writes skip known request ids) — after `max_retries` it
 * lands in the dead-letter queue `switchyard-usage-dlq`. A message that is not usage events is retried too (and so
 * ends in the dead-letter queue, kept for inspection, never silently dropped).
 */
export async function consumeUsageBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid: Delivery[] = [];
  for (const message of batch.messages) {
    const parsed = UsageMessageSchema.safeParse(message.body);
    if (parsed.success) valid.push({ message, events: eventsOf(parsed.data) });
    else {
      logError("usage message is not a usage event", { messageId: message.id, issue: parsed.error.issues[0]?.message });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  if (valid.length === 0) return;
  try {
    await writeUsageEvents(env.USAGE_DB, rowsOf(valid));
    for (const { message } of valid) message.ack();
    return;
  } catch (error) {
    logError("usage batch write failed; writing message by message", { messages: valid.length, error: error instanceof Error ? error.message : String(error) });
  }
  await Promise.all(valid.map(async (delivery) => ((await writeDelivery(env.USAGE_DB, delivery)) ? delivery.message.ack() : delivery.message.retry({ delaySeconds: retryDelaySeconds(delivery.message.attempts) }))));
}

/** One message's events: together, else one by one; true when every one landed. */
async function writeDelivery(db: D1Database, delivery: Delivery): Promise<boolean> {
  try {
    await writeUsageEvents(db, rowsOf([delivery]));
    return true;
  } catch (error) {
    if (delivery.events.length === 1) {
      logError("usage event write failed; retrying through the queue", { requestId: delivery.events[0]!.requestId, attempts: delivery.message.attempts, error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }
  const written = await Promise.all(delivery.events.map((event) => writeDelivery(db, { message: delivery.message, events: [event] })));
  return written.every(Boolean);
}
