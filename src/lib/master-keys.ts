import { GatewayError } from "./errors";
import { base64Decode, base64Encode } from "./crypto";

/** AES-256-GCM: a 32-byte key, a fresh 12-byte IV per encryption (GCM's recommended nonce length). */
const KEY_BYTES = 32;
const IV_BYTES = 12;
/** Used when MASTER_KEY_ID is not set, so a single-key setup needs one secret only. */
export const DEFAULT_MASTER_KEY_ID = "1";

export type Sealed = { keyId: string; iv: string; ciphertext: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const misconfigured = (message: string) => new GatewayError({ status: 503, type: "configuration_error", code: "master_key_invalid", message });

function secretOf(env: object, name: string): string | undefined {
  const value: unknown = Reflect.get(env, name);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function keyBytes(encoded: string, name: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = base64Decode(encoded);
  } catch {
    throw misconfigured(`${name} is not valid base64 (expected 32 random bytes: openssl rand -base64 32).`);
  }
  if (bytes.byteLength !== KEY_BYTES) throw misconfigured(`${name} must decode to ${KEY_BYTES} bytes, not ${bytes.byteLength}.`);
  return bytes;
}

/**
 * The master keys, by id: MASTER_KEY (id MASTER_KEY_ID, default "1") encrypts; MASTER_KEYS_PREVIOUS
 * (`id:base64,id:base64`) only decrypts, so credentials sealed before a rotation keep working until
 * `POST /admin/credentials/rotate` re-encrypts them.
 */
export class MasterKeyring {
  readonly currentId: string;
  readonly #raw: Map<string, Uint8Array>;
  readonly #imported = new Map<string, Promise<CryptoKey>>();

  private constructor(currentId: string, raw: Map<string, Uint8Array>) {
    this.currentId = currentId;
    this.#raw = raw;
  }

  /** From the Worker's secrets (any object holding them, so a migration can name an old key as current). */
  static fromEnv(env: object): MasterKeyring {
    const current = secretOf(env, "MASTER_KEY");
    if (!current) throw misconfigured("Stored credentials need the MASTER_KEY secret (32 random bytes, base64): wrangler secret put MASTER_KEY.");
    const currentId = secretOf(env, "MASTER_KEY_ID") ?? DEFAULT_MASTER_KEY_ID;
    const raw = new Map<string, Uint8Array>();
    for (const entry of (secretOf(env, "MASTER_KEYS_PREVIOUS") ?? "").split(",").map((e) => e.trim()).filter(Boolean)) {
      const colon = entry.indexOf(":");
      if (colon <= 0) throw misconfigured("MASTER_KEYS_PREVIOUS must be a comma-separated list of id:base64 entries.");
      const id = entry.slice(0, colon);
      raw.set(id, keyBytes(entry.slice(colon + 1), `MASTER_KEYS_PREVIOUS (${id})`));
    }
    raw.set(currentId, keyBytes(current, "MASTER_KEY"));
    return new MasterKeyring(currentId, raw);
  }

  has(keyId: string): boolean {
    return this.#raw.has(keyId);
  }

  #key(keyId: string): Promise<CryptoKey> {
    const raw = this.#raw.get(keyId);
    if (!raw) throw misconfigured(`A credential was encrypted with master key "${keyId}", which is neither MASTER_KEY nor in MASTER_KEYS_PREVIOUS.`);
    let key = this.#imported.get(keyId);
    if (!key) {
      key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
      this.#imported.set(keyId, key);
    }
    return key;
  }

  /** Encrypts under the current key. `context` is bound as additional data: the ciphertext only opens there. */
  async seal(plaintext: string, context: string): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(context) }, await this.#key(this.currentId), encoder.encode(plaintext));
    return { keyId: this.currentId, iv: base64Encode(iv), ciphertext: base64Encode(new Uint8Array(ciphertext)) };
  }

  async open(sealed: Sealed, context: string): Promise<string> {
    const key = await this.#key(sealed.keyId);
    try {
      const plaintext = await crypto.subtle.decrypt({ name: "AES-GCM", iv: base64Decode(sealed.iv), additionalData: encoder.encode(context) }, key, base64Decode(sealed.ciphertext));
      return decoder.decode(plaintext);
    } catch {
      throw misconfigured(`A stored credential could not be decrypted with master key "${sealed.keyId}" (wrong key for that id, or the record was altered).`);
    }
  }
}
