import { z } from "zod";

/**
 * Scriptable faults shared by every simulator. A test addresses a scenario through the base URL it configures
 * (`<origin>/s/<scenario>/<provider>/...`); faults scripted for that scenario are consumed one per request, in
 * order; when none are left the simulator answers normally. Every request is recorded per scenario.
 */
export const FaultSchema = z.object({
  /** Answer with this status and the provider's error body (message below). */
  status: z.number().int().optional(),
  /** With `status`: answer with this raw body (text/html) instead of the provider's JSON error body. */
  body: z.string().optional(),
  message: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Wait this long before answering at all (headers included). */
  delayMs: z.number().int().nonnegative().optional(),
  /** Streams: delay before the first event (the headers go out at once). */
  firstEventDelayMs: z.number().int().nonnegative().optional(),
  /** Streams: delay between events. */
  chunkDelayMs: z.number().int().nonnegative().optional(),
  /**
   * Streams: after this many events, break the connection (`abort`), end it without the final event
   * (`truncate`), or send the wire format's own in-stream error (`error`: OpenAI's `data: {"error":…}`,
   * Anthropic's `event: error`, with `message`; `exception`: Bedrock's exception event) and end.
   */
  dropAfterEvents: z.number().int().nonnegative().optional(),
  drop: z.enum(["abort", "truncate", "error", "exception"]).optional(),
  /** Replace the generated reply text. */
  text: z.string().optional(),
  /**
   * Batch APIs: how a batch created by this request ends: `fail` (the provider fails it, its message echoing the
   * caller's key), `expire` (its window passes unfinished) or `hold` (it runs until cancelled).
   */
  batch: z.enum(["fail", "expire", "hold"]).optional(),
  /** Apply to this many consecutive requests (default 1). */
  times: z.number().int().positive().optional(),
});
export type Fault = z.infer<typeof FaultSchema>;

export const ScenarioSchema = z.object({
  faults: z.array(FaultSchema).default([]),
  /** Applied to every request once scripted faults are used up (e.g. a constant latency). */
  always: FaultSchema.optional(),
});

/** `aborted` turns true when the caller dropped the connection before the response was complete. */
export type RecordedRequest = { method: string; path: string; headers: Record<string, string>; body: unknown; at: number; aborted: boolean };

type Scenario = { faults: Fault[]; always: Fault | undefined; requests: RecordedRequest[] };

export class ScenarioBook {
  readonly #scenarios = new Map<string, Scenario>();

  #get(id: string): Scenario {
    let scenario = this.#scenarios.get(id);
    if (!scenario) {
      scenario = { faults: [], always: undefined, requests: [] };
      this.#scenarios.set(id, scenario);
    }
    return scenario;
  }

  script(id: string, input: z.input<typeof ScenarioSchema>): void {
    const parsed = ScenarioSchema.parse(input);
    const scenario = this.#get(id);
    scenario.faults = parsed.faults.flatMap((fault) => Array.from({ length: fault.times ?? 1 }, () => fault));
    scenario.always = parsed.always;
  }

  /** The fault for the next request of this scenario (consumed), or the standing one, or none. */
  next(id: string | undefined): Fault | undefined {
    if (!id) return undefined;
    const scenario = this.#get(id);
    return scenario.faults.shift() ?? scenario.always;
  }

  record(id: string | undefined, request: RecordedRequest): void {
    if (id) this.#get(id).requests.push(request);
  }

  requests(id: string): RecordedRequest[] {
    return this.#get(id).requests;
  }

  reset(id: string): void {
    this.#scenarios.delete(id);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deterministic token estimate the simulators report as usage: about four characters per token. */
/**
 * The simulators' tokenizer: about four ASCII characters a token, and 1.5 tokens for every other character (dense
 * scripts such as CJK bill far more tokens per character than English).
 */
export function countTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.codePointAt(0)! < 0x80) ascii++;
    else other++;
  }
  return Math.max(1, Math.ceil(ascii / 4 + other * 1.5));
}

/** The longest prefix of `text` within `limit` tokens (what a provider returns when max_tokens cuts an answer). */
export function truncateToTokens(text: string, limit: number): string {
  let out = text.slice(0, limit * 4);
  while (out.length > 0 && countTokens(out) > limit) out = out.slice(0, -1);
  return out;
}

/** Deterministic arguments for a tool: every schema property gets a value of its type. */
export function argumentsFor(schema: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = typeof schema === "object" && schema !== null && "properties" in schema ? (schema as { properties: unknown }).properties : undefined;
  if (typeof properties !== "object" || properties === null) return out;
  for (const [name, definition] of Object.entries(properties)) {
    const type = typeof definition === "object" && definition !== null && "type" in definition ? (definition as { type: unknown }).type : "string";
    out[name] = type === "number" || type === "integer" ? 42 : type === "boolean" ? true : type === "array" ? [] : type === "object" ? {} : "Paris";
  }
  return out;
}

/** Splits text into stream-sized pieces (words with their following space). */
export const pieces = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? [text];

/**
 * A stream body that writes `events` with the fault's pacing, and breaks off as the fault says:
 * `abort` errors the body (the connection is cut), `truncate` ends it cleanly but early, `error` writes
 * `errorEvent(message)` (the wire format's in-stream error) and ends.
 */
export function eventStream(events: string[], fault: Fault | undefined, errorEvent?: (message: string) => string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (fault?.dropAfterEvents !== undefined && index >= fault.dropAfterEvents) {
        // Let the events already written reach the client before the connection goes.
        await sleep(20);
        if (fault.drop === "error" && errorEvent) {
          controller.enqueue(encoder.encode(errorEvent(fault.message ?? "Simulated stream error")));
          controller.close();
        } else if (fault.drop === "truncate") controller.close();
        else controller.error(new Error("simulated connection drop"));
        return;
      }
      if (index >= events.length) {
        controller.close();
        return;
      }
      if (fault?.firstEventDelayMs && index === 0) await sleep(fault.firstEventDelayMs);
      if (fault?.chunkDelayMs && index > 0) await sleep(fault.chunkDelayMs);
      controller.enqueue(encoder.encode(events[index++]!));
    },
  });
}

/** A fault's raw (non-JSON) error body, when it asks for one. */
export const rawErrorBody = (fault: Fault): Response | undefined =>
  fault.body === undefined ? undefined : new Response(fault.body, { status: fault.status ?? 500, headers: { "content-type": "text/html; charset=utf-8" } });

export const SSE_RESPONSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };
