import type { UsageEvent } from "../../usage/event";

/**
 * Trace and span ids derived from the request id (SHA-256), so a re-exported event carries the same ids and
 * nothing on the request path generates them. The trace id is the client's when it sent a `traceparent`.
 */
async function hexDigest(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

export type EventIds = { traceId: string; requestSpanId: string; attemptSpanIds: string[] };

export async function idsOf(event: UsageEvent): Promise<EventIds> {
  const traceId = event.trace?.traceId ?? (await hexDigest(`trace:${event.requestId}`)).slice(0, 32);
  const requestSpanId = (await hexDigest(`span:${event.requestId}`)).slice(0, 16);
  const attemptSpanIds = await Promise.all(event.attempts.map(async (_a, i) => (await hexDigest(`span:${event.requestId}:${i}`)).slice(0, 16)));
  return { traceId, requestSpanId, attemptSpanIds };
}
