/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` a client sends, so the gateway's
 * spans join the client's trace. Only version 00 is understood field by field; a later version is read by its
 * first four fields, as the spec asks. Anything malformed is ignored (a new trace starts), never an error.
 */
export type TraceContext = { traceId: string; parentSpanId: string; sampled: boolean };

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

export function parseTraceparent(header: string | undefined): TraceContext | null {
  if (header === undefined) return null;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return null;
  const [, version, traceId, parentSpanId, flags, rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || parentSpanId === ZERO_SPAN) return null;
  return { traceId: traceId!, parentSpanId: parentSpanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}
