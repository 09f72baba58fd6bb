/**
 * JSON Lines, read as bytes arrive: a file is never held whole, only the line being read. Lines are numbered from
 * 1 as a text editor would; `\r\n` endings are accepted.
 */

/** The longest line read (one request of a batch file, images included); a longer one is refused, not buffered. */
export const MAX_LINE_CHARS = 10 * 1024 * 1024;

export type Line = { number: number; text: string };

export class LineTooLongError extends Error {
  constructor(readonly lineNumber: number) {
    super(`line ${lineNumber} is longer than ${MAX_LINE_CHARS} characters`);
  }
}

export class NotUtf8Error extends Error {
  constructor(readonly lineNumber: number) {
    super(`line ${lineNumber} is not UTF-8 text`);
  }
}

export class LineSplitter {
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  #pending: string[] = [];
  #pendingChars = 0;
  #number = 0;

  /** The lines completed by `bytes`; an unfinished last line waits for the next call. */
  push(bytes: Uint8Array): Line[] {
    return this.#split(this.#decode(bytes, true), false);
  }

  /** The last line (one without a final newline), if any. */
  end(): Line[] {
    return this.#split(this.#decode(undefined, false), true);
  }

  #decode(bytes: Uint8Array | undefined, stream: boolean): string {
    try {
      return this.#decoder.decode(bytes, { stream });
    } catch {
      throw new NotUtf8Error(this.#number + 1);
    }
  }

  #split(text: string, final: boolean): Line[] {
    const lines: Line[] = [];
    let start = 0;
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", start)) {
      this.#pending.push(text.slice(start, at));
      lines.push(this.#take());
      start = at + 1;
    }
    const rest = text.slice(start);
    if (rest !== "") {
      this.#pending.push(rest);
      this.#pendingChars += rest.length;
      if (this.#pendingChars > MAX_LINE_CHARS) throw new LineTooLongError(this.#number + 1);
    }
    if (final && this.#pending.length > 0) lines.push(this.#take());
    return lines;
  }

  #take(): Line {
    let text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join("");
    this.#pending = [];
    this.#pendingChars = 0;
    this.#number++;
    if (text.length > MAX_LINE_CHARS) throw new LineTooLongError(this.#number);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    return { number: this.#number, text };
  }
}

/** The lines of a byte stream, as they arrive. */
export async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Line> {
  const splitter = new LineSplitter();
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* splitter.push(value);
    }
    yield* splitter.end();
  } finally {
    reader.releaseLock();
  }
}

/** Where one line sits in a file, in bytes (its newline excluded); `blank` when it holds only whitespace. */
export type LineSpan = { offset: number; length: number; blank: boolean };

const NEWLINE = 0x0a;
const isJsonWhitespace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0d;

/**
 * The byte spans of a stream's lines, starting at file offset `start`, without decoding them: what a batch's
 * driver hands out by reference (a range read per line), so neither it nor the queue ever carries a line's text.
 */
export async function* lineSpansOf(stream: ReadableStream<Uint8Array>, start = 0): AsyncGenerator<LineSpan> {
  const reader = stream.getReader();
  let lineStart = start;
  let position = start;
  let blank = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let at = 0; at < value.length; ) {
        const newline = value.indexOf(NEWLINE, at);
        const end = newline === -1 ? value.length : newline;
        // A line is blank only while every byte so far is whitespace: usually its first byte settles it.
        for (let i = at; blank && i < end; i++) if (!isJsonWhitespace(value[i]!)) blank = false;
        position += end - at;
        if (newline === -1) break;
        yield { offset: lineStart, length: position - lineStart, blank };
        position += 1;
        lineStart = position;
        blank = true;
        at = newline + 1;
      }
    }
    if (position > lineStart) yield { offset: lineStart, length: position - lineStart, blank };
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
