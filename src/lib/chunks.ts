/**
 * Text produced piece by piece, as byte chunks of exactly `size` (the last one shorter): what resumable upload
 * protocols want (Google's chunks are multiples of 256 KiB but the last). Memory: one chunk.
 */
export async function* fixedSizeChunks(pieces: AsyncIterable<string>, size: number): AsyncGenerator<{ bytes: Uint8Array; offset: number; last: boolean }> {
  const encoder = new TextEncoder();
  let buffer = new Uint8Array(size);
  let filled = 0;
  let offset = 0;
  for await (const piece of pieces) {
    let bytes = encoder.encode(piece);
    while (bytes.byteLength > 0) {
      if (filled === size) {
        // A full chunk is only sent once more bytes follow, so the final chunk is always marked `last`.
        yield { bytes: buffer, offset, last: false };
        offset += size;
        buffer = new Uint8Array(size);
        filled = 0;
      }
      const take = Math.min(size - filled, bytes.byteLength);
      buffer.set(bytes.subarray(0, take), filled);
      filled += take;
      bytes = bytes.subarray(take);
    }
  }
  yield { bytes: buffer.subarray(0, filled), offset, last: true };
}
