/**
 * A request, response or R2 object body as the byte stream it is. workers-types declare these bodies as a
 * `ReadableStream` with an open (`any`) chunk type; every one of them carries bytes.
 */
export const byteStream = (body: ReadableStream): ReadableStream<Uint8Array> => body as ReadableStream<Uint8Array>;
