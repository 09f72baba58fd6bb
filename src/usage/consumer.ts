import { loadWorkspaceConfig } from "../config/store";
import { retryDelaySeconds } from "../lib/queue-retry";
import { UsageEventSchema, type UsageEvent } from "./event";
import { rollupDimsOf, writeUsageEvents, type StoredEvent } from "./store";

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

/** Called with the events a batch stored (the export forwarder); a throw retries them (their writes are idempotent). */
export type AfterStore = (events: UsageEvent[]) => Promise<void>;

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
 * The `switchyard-usage` Queue consumer: writes each batch of usage events to D1 (the hourly and daily rollups
 * in the same transaction, src/usage/rollups.ts), then hands the stored events to `afterStore` (the exporters'
 * queue). The whole batch goes in one transaction; if that fails, each event is written on its own so one bad
 * event cannot hold the others back, and every event that still fails is retried by the Queue (with backoff) —
 * after `max_retries` it lands in the dead-letter queue `switchyard-usage-dlq`. Writes ignore known request ids,
 * so redeliveries add nothing. A message that is not a usage event is retried too (and so ends in the
 * dead-letter queue, kept for inspection, never silently dropped).
 */
export async function consumeUsageBatch(batch: MessageBatch<unknown>, env: Env, afterStore?: AfterStore): Promise<void> {
  const parsed: { message: Message<unknown>; event: UsageEvent }[] = [];
  for (const message of batch.messages) {
    const result = UsageEventSchema.safeParse(message.body);
    if (result.success) parsed.push({ message, event: result.data });
    else {
      logError("usage message is not a usage event", { messageId: message.id, issue: result.error.issues[0]?.message });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  if (parsed.length === 0) return;
  const declared = await declaredKeysOf(env, parsed.map((p) => p.event));
  const valid = parsed.map(({ message, event }) => ({
    message,
    stored: { event, deliveryAttempts: message.attempts, rollupDims: rollupDimsOf(event.metadata, declared.get(event.workspaceId) ?? []) } satisfies StoredEvent,
  }));

  const done = async (written: typeof valid) => {
    if (written.length === 0) return;
    try {
      await afterStore?.(written.map((w) => w.stored.event));
      for (const { message } of written) message.ack();
    } catch (error) {
      logError("stored usage events could not be handed on; retrying", { size: written.length, error: error instanceof Error ? error.message : String(error) });
      for (const { message } of written) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  };

  try {
    await writeUsageEvents(env.USAGE_DB, valid.map((v) => v.stored));
    await done(valid);
    return;
  } catch (error) {
    logError("usage batch write failed; writing events one by one", { size: valid.length, error: error instanceof Error ? error.message : String(error) });
  }
  const written: typeof valid = [];
  await Promise.all(
    valid.map(async (item) => {
      try {
        await writeUsageEvents(env.USAGE_DB, [item.stored]);
        written.push(item);
      } catch (error) {
        logError("usage event write failed; retrying through the queue", { requestId: item.stored.event.requestId, attempts: item.message.attempts, error: error instanceof Error ? error.message : String(error) });
        item.message.retry({ delaySeconds: retryDelaySeconds(item.message.attempts) });
      }
    }),
  );
  await done(written);
}
