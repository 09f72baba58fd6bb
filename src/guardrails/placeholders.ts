/**
 * Typed placeholders for redacted text: `[EMAIL_1]`, `[CARD_2]`, … The same original text gets the same
 * placeholder within a request, so the model can still tell two addresses apart and refer back to one. With
 * reversible redaction the placeholders issued on the prompt are mapped back in the answer of the same request.
 */

const PLACEHOLDER = /\[([A-Z]{2,12})_(\d{1,6})\]/g;
/** `[` + a type of up to 12 letters + `_` + up to 6 digits + `]`. */
const PLACEHOLDER_MAX_LENGTH = 1 + 12 + 1 + 6 + 1;
const PLACEHOLDER_PREFIX = /^\[(?:[A-Z]{0,12}|[A-Z]{2,12}_\d{0,6})$/;

export class PlaceholderVault {
  readonly #byOriginal = new Map<string, string>();
  readonly #byPlaceholder = new Map<string, string>();
  readonly #counters = new Map<string, number>();

  /** The placeholder for `original` of this type: the one it already has, or the next number. */
  placeholderFor(type: string, original: string): string {
    const key = `${type}\u0000${original}`;
    const known = this.#byOriginal.get(key);
    if (known) return known;
    const next = (this.#counters.get(type) ?? 0) + 1;
    this.#counters.set(type, next);
    const placeholder = `[${type}_${next}]`;
    this.#byOriginal.set(key, placeholder);
    this.#byPlaceholder.set(placeholder, original);
    return placeholder;
  }

  get size(): number {
    return this.#byPlaceholder.size;
  }

  /** `text` with every placeholder this vault issued replaced by its original; others are left as they are. */
  restore(text: string): string {
    if (this.#byPlaceholder.size === 0 || !text.includes("[")) return text;
    return text.replace(PLACEHOLDER, (placeholder) => this.#byPlaceholder.get(placeholder) ?? placeholder);
  }

  /** Streams: where a placeholder may be cut off at the end of `text` (text.length when none). */
  heldFrom(text: string): number {
    const open = text.lastIndexOf("[");
    if (open === -1 || text.length - open >= PLACEHOLDER_MAX_LENGTH) return text.length;
    return PLACEHOLDER_PREFIX.test(text.slice(open)) ? open : text.length;
  }
}

/** Restores placeholders in a stream of text pieces, holding back only a placeholder that may be cut off. */
export class StreamRestorer {
  #pending = "";
  readonly vault: PlaceholderVault;
  constructor(vault: PlaceholderVault) {
    this.vault = vault;
  }

  push(text: string): string {
    const all = this.#pending + text;
    const held = this.vault.heldFrom(all);
    this.#pending = all.slice(held);
    return this.vault.restore(all.slice(0, held));
  }

  flush(): string {
    const rest = this.#pending;
    this.#pending = "";
    return this.vault.restore(rest);
  }
}
