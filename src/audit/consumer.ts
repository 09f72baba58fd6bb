import { retryDelaySeconds } from "../usage/consumer";
import { AuditEntrySchema, type AuditEntry } from "./entry";
import { insertAuditEntries } from "./store";

/** The fallback queue's name (wrangler.toml): the Worker's queue handler routes its batches here. */
export const AUDIT_QUEUE_NAME = "switchyard-audit";

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

/**
 * The `switchyard-audit` consumer: audit entries whose direct D1 write failed (src/audit/record.ts). A batch is
 * written in one transaction, else entry by entry; whatever still fails is retried with backoff and, after
 * `max_retries`, kept in `switchyard-audit-dlq`. Inserts ignore known ids, so redelivery adds nothing.
 */
export async function consumeAuditBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid: { message: Message<unknown>; entry: AuditEntry }[] = [];
  for (const message of batch.messages) {
    const parsed = AuditEntrySchema.safeParse(message.body);
    if (parsed.success) valid.push({ message, entry: parsed.data });
    else {
      logError("audit message is not an audit entry", { messageId: message.id, issue: parsed.error.issues[0]?.message });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  if (valid.length === 0) return;
  try {
    await insertAuditEntries(env.USAGE_DB, valid.map((v) => v.entry));
    for (const { message } of valid) message.ack();
    return;
  } catch (error) {
    logError("audit batch write failed; writing entries one by one", { size: valid.length, error: error instanceof Error ? error.message : String(error) });
  }
  await Promise.all(
    valid.map(async ({ message, entry }) => {
      try {
        await insertAuditEntries(env.USAGE_DB, [entry]);
        message.ack();
      } catch (error) {
        logError("audit entry write failed; retrying", { auditId: entry.id, attempts: message.attempts, error: error instanceof Error ? error.message : String(error) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}
