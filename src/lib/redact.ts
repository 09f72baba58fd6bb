import { base64Encode } from "./crypto";

/** Shorter values are not secrets worth hiding, and hiding them would mangle ordinary text. */
const MIN_SECRET_LENGTH = 4;
/** A derived copy (base64, encoded) shorter than this would match too much unrelated text. */
const MIN_COPY_LENGTH = 8;

const encoder = new TextEncoder();

/** How base64 shows a value wherever it sits in a longer encoded text: the characters its bytes alone decide. */
function base64Fingerprints(secret: string): string[] {
  const bytes = encoder.encode(secret);
  const out: string[] = [];
  for (const offset of [0, 1, 2]) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const encoded = base64Encode(padded);
    const length = offset + bytes.length;
    // The first group is shared with `offset` bytes before the value; the last partial group with bytes after it.
    const start = [0, 2, 3][offset]!;
    const end = 4 * Math.floor(length / 3) + (length % 3);
    const fingerprint = encoded.slice(start, end);
    if (fingerprint.length >= MIN_COPY_LENGTH) out.push(fingerprint, fingerprint.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return out;
}

/** Every form in which a secret may come back in an upstream's text. */
function copiesOf(secret: string): string[] {
  const copies = new Set([secret]);
  if (secret.length >= MIN_COPY_LENGTH) {
    copies.add(encodeURIComponent(secret));
    copies.add(encodeURIComponent(secret).replace(/%20/g, "+"));
    copies.add(JSON.stringify(secret).slice(1, -1));
    for (const fingerprint of base64Fingerprints(secret)) copies.add(fingerprint);
  }
  return [...copies];
}

/**
 * The secrets one request handed to upstreams (provider keys, service-account keys, access tokens), and the
 * means to scrub them from any text that leaves the gateway: error messages to the client, in a JSON answer or
 * mid-stream, and log lines. Copies are caught too: URL-encoded, JSON-escaped, and base64 — alone or inside a
 * longer encoding (Basic auth, a token), standard or URL-safe.
 */
export class Redactor {
  readonly #secrets = new Set<string>();
  #copies: string[] | undefined;

  add(secret: string): void {
    if (secret.length < MIN_SECRET_LENGTH || this.#secrets.has(secret)) return;
    this.#secrets.add(secret);
    this.#copies = undefined;
  }

  redact(text: string): string {
    if (this.#secrets.size === 0 || text === "") return text;
    // Longest first, so a copy that contains another is replaced whole.
    this.#copies ??= [...new Set([...this.#secrets].flatMap(copiesOf))].sort((a, b) => b.length - a.length);
    let out = text;
    for (const copy of this.#copies) if (out.includes(copy)) out = out.split(copy).join("[redacted]");
    return out;
  }

  /**
   * Scrubs an error's message in place (its class and fields stay), and returns it. The stack too: V8 wrote the
   * message into it when the error was made, and the runtime logs the stack of an error a stream fails with.
   */
  redactError<E extends Error>(error: E): E {
    const message = this.redact(error.message);
    if (message === error.message) return error;
    error.message = message;
    if (typeof error.stack === "string") error.stack = this.redact(error.stack);
    return error;
  }
}
