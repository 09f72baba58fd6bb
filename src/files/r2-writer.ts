/**
 * Writes a stream of unknown length to R2 without holding it: bytes are gathered into fixed-size parts of a
 * multipart upload (R2: every part but the last the same size, at least 5 MiB, at most 10,000 parts), so memory
 * is one part. A stream that ends within the first part is stored with one `put`. Nothing is visible under the
 * key until `close()` completes; `abort()` leaves nothing behind.
 */

/** 8 MiB parts: 512 MiB takes 64 parts; R2's minimum part is 5 MiB and its maximum count 10,000. */
export const R2_PART_BYTES = 8 * 1024 * 1024;

export class R2StreamWriter {
  readonly #bucket: R2Bucket;
  readonly #key: string;
  readonly #options: R2PutOptions;
  readonly #partBytes: number;
  #buffer: Uint8Array;
  #filled = 0;
  #bytes = 0;
  #upload: R2MultipartUpload | undefined;
  readonly #parts: R2UploadedPart[] = [];

  constructor(bucket: R2Bucket, key: string, options: R2PutOptions = {}, partBytes = R2_PART_BYTES) {
    this.#bucket = bucket;
    this.#key = key;
    this.#options = options;
    this.#partBytes = partBytes;
    this.#buffer = new Uint8Array(partBytes);
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#bytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#bytes += chunk.byteLength;
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(this.#partBytes - this.#filled, chunk.byteLength - offset);
      this.#buffer.set(chunk.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === this.#partBytes) await this.#flushPart();
    }
  }

  async writeText(text: string): Promise<void> {
    await this.write(new TextEncoder().encode(text));
  }

  async #flushPart(): Promise<void> {
    this.#upload ??= await this.#bucket.createMultipartUpload(this.#key, this.#options);
    const full = this.#filled === this.#partBytes;
    this.#parts.push(await this.#upload.uploadPart(this.#parts.length + 1, full ? this.#buffer : this.#buffer.subarray(0, this.#filled)));
    // The sent buffer may still be read by the runtime: the next part gets a fresh one.
    if (full) this.#buffer = new Uint8Array(this.#partBytes);
    this.#filled = 0;
  }

  /** Stores what was written under the key; returns its size in bytes. */
  async close(): Promise<number> {
    if (!this.#upload) {
      await this.#bucket.put(this.#key, this.#buffer.subarray(0, this.#filled), this.#options);
    } else {
      if (this.#filled > 0) await this.#flushPart();
      await this.#upload.complete(this.#parts);
    }
    this.#buffer = new Uint8Array(0);
    return this.#bytes;
  }

  /** Discards everything written (an unfinished multipart upload is aborted). */
  async abort(): Promise<void> {
    this.#buffer = new Uint8Array(0);
    await this.#upload?.abort().catch(() => undefined);
  }
}
