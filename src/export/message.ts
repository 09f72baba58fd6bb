import * as z from "zod";
import { UsageEventSchema, type UsageEvent } from "../usage/event";
import { SINKS, enabledSinks, exportSettingsOf, type Sink } from "./settings";

/**
 * The `switchyard-export` Queue's messages: usage events for one sink. The usage consumer sends them once the
 * events are stored; one message per sink, so a sink that fails is retried (and ends in the dead-letter queue)
 * on its own, without sending the others' data twice.
 */
/** The export queue's name in wrangler.toml. */
export const EXPORT_QUEUE_NAME = "switchyard-export";

export const ExportMessageSchema = z.object({ v: z.literal(1), sink: z.enum(SINKS), events: z.array(UsageEventSchema).min(1) });
export type ExportMessage = z.infer<typeof ExportMessageSchema>;

/** Queues' limits are 128 KB per message and 256 KB per sendBatch; these leave room for the envelope. */
const MAX_MESSAGE_BYTES = 120_000;
const MAX_SEND_BYTES = 240_000;
const MAX_SEND_MESSAGES = 100;

const encoder = new TextEncoder();
const sizeOf = (value: unknown) => encoder.encode(JSON.stringify(value)).byteLength;

/** Items packed in order into groups of at most `maxBytes` (an item over it goes alone) and `maxCount` items. */
function pack<T>(items: readonly T[], size: (item: T) => number, maxBytes: number, maxCount: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemBytes = size(item);
    if (current.length > 0 && (current.length >= maxCount || bytes + itemBytes > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += itemBytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** The messages that carry these events to these sinks. */
export function exportMessagesOf(events: readonly UsageEvent[], sinks: readonly Sink[]): ExportMessage[] {
  if (events.length === 0) return [];
  const groups = pack(events, sizeOf, MAX_MESSAGE_BYTES, Number.MAX_SAFE_INTEGER);
  return sinks.flatMap((sink) => groups.map((group) => ({ v: 1 as const, sink, events: group })));
}

/**
 * Hands stored events to the export queue, one message per sink. Nothing is sent when no sink is configured.
 * Throws when the Queue refuses, so the caller retries the usage messages (their D1 writes are idempotent).
 */
export async function forwardForExport(env: Env, events: readonly UsageEvent[]): Promise<void> {
  let sinks: Sink[];
  try {
    sinks = enabledSinks(exportSettingsOf(env));
  } catch (error) {
    // A broken export setting must not hold back usage data: logged, and nothing is exported until it is fixed.
    console.error(JSON.stringify({ level: "error", message: "export settings are invalid; events not exported", error: error instanceof Error ? error.message : String(error) }));
    return;
  }
  const messages = exportMessagesOf(events, sinks);
  for (const batch of pack(messages, sizeOf, MAX_SEND_BYTES, MAX_SEND_MESSAGES)) {
    await env.EXPORT_QUEUE.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
  }
}
