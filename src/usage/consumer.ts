import { loadWorkspaceConfig } from "../config/store";
import { retryDelaySeconds } from "../lib/queue-retry";
import { UsageMessageSchema, eventsOf, type UsageEvent } from "./event";
import { rollupDimsOf, writeUsageEvents, type StoredEvent } from "./store";

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

/** Called with the events of the messages a batch stored (the export forwarder); a throw retries them (their writes are idempotent). */
export type AfterStore = (events: UsageEvent[]) => Promise<void>;

type Delivery = { message: Message<unknown>; events: UsageEvent[] };

/** The metadata keys each workspace keeps in its rollups (config `usage.metadataKeys`), read once per batch. */
async function declaredKeysOf(env: Env, events: readonly UsageEvent[]): Promise<Map<string, readonly string[]>> {
  const keys = new Map<string, readonly string[]>();
  for (const workspaceId of new Set(events.filter((e) => Object.keys(e.metadata).length > 0).map((e) => e.workspaceId))) {
    try {
      keys.set(workspaceId, (await loadWorkspaceConfig(env, workspaceId))?.usage?.metadataKeys ?? []);
    } catch (error) {
      // Usage is still written (without metadata dimensions) rather than held back by a config that cannot be read.
      logError("workspace config unreadable; usage rolled up without metadata dimensions", { workspaceId, error: error instanceof Error ? error.message : String(error) });
      keys.set(workspaceId, []);
    }
  }
  return keys;
}

/**
 * The `switchyard-usage` Queue consumer: writes each batch of usage events to D1 (the hourly and daily rollups in
 * the same transaction, src/usage/rollups.ts), then hands the stored events to `afterStore` (the exporters' queue).
 * A message carries the events one isolate flushed together (or, from earlier versions, one event). The whole
 * batch goes in one transaction; if that fails, each message is written on its own, and within a failing message
 * each event, so one bad event cannot hold the others back. A message with an event that still fails is retried by
 * the Queue (with backoff; its events that did land are ignored on redelivery, writes skip known request ids) —
 * after `max_retries` it lands in the dead-letter queue `switchyard-usage-dlq`. A message that is not usage events
 * is retried too (and so ends in the dead-letter queue, kept for inspection, never silently dropped).
 */
export async function consumeUsageBatch(batch: MessageBatch<unknown>, env: Env, afterStore?: AfterStore): Promise<void> {
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
  const declared = await declaredKeysOf(env, valid.flatMap((d) => d.events));
  const rowsOf = (deliveries: readonly Delivery[]): StoredEvent[] =>
    deliveries.flatMap(({ message, events }) => events.map((event) => ({ event, deliveryAttempts: message.attempts, rollupDims: rollupDimsOf(event.metadata, declared.get(event.workspaceId) ?? []) })));

  /** Hands the stored messages' events on, then acks them; a failed hand-off retries them. */
  const done = async (written: readonly Delivery[]) => {
    if (written.length === 0) return;
    try {
      await afterStore?.(written.flatMap((d) => d.events));
      for (const { message } of written) message.ack();
    } catch (error) {
      logError("stored usage events could not be handed on; retrying", { messages: written.length, error: error instanceof Error ? error.message : String(error) });
      for (const { message } of written) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  };

  try {
    await writeUsageEvents(env.USAGE_DB, rowsOf(valid));
    await done(valid);
    return;
  } catch (error) {
    logError("usage batch write failed; writing message by message", { messages: valid.length, error: error instanceof Error ? error.message : String(error) });
  }

  /** One message's events: together, else one by one; true when every one landed. */
  const writeDelivery = async (delivery: Delivery): Promise<boolean> => {
    try {
      await writeUsageEvents(env.USAGE_DB, rowsOf([delivery]));
      return true;
    } catch (error) {
      if (delivery.events.length === 1) {
        logError("usage event write failed; retrying through the queue", { requestId: delivery.events[0]!.requestId, attempts: delivery.message.attempts, error: error instanceof Error ? error.message : String(error) });
        return false;
      }
    }
    const written = await Promise.all(delivery.events.map((event) => writeDelivery({ message: delivery.message, events: [event] })));
    return written.every(Boolean);
  };
  const written: Delivery[] = [];
  await Promise.all(
    valid.map(async (delivery) => {
      if (await writeDelivery(delivery)) written.push(delivery);
      else delivery.message.retry({ delaySeconds: retryDelaySeconds(delivery.message.attempts) });
    }),
  );
  await done(written);
}
