import { describe, expect, it } from "vitest";
import { fixedSizeChunks } from "./chunks";
import { LineSplitter, LineTooLongError, MAX_LINE_CHARS, NotUtf8Error } from "./jsonl";

/** The streaming pieces files and batches rely on: JSONL lines as bytes arrive, fixed-size upload chunks. */

const bytes = (text: string) => new TextEncoder().encode(text);

describe("LineSplitter", () => {
  it("numbers lines across chunk boundaries, multi-byte characters split between chunks included", () => {
    const splitter = new LineSplitter();
    const whole = bytes('{"a":"é"}\r\n\n{"b":"日本"}');
    const seen = [...splitter.push(whole.subarray(0, 8)), ...splitter.push(whole.subarray(8, 17)), ...splitter.push(whole.subarray(17)), ...splitter.end()];
    expect(seen).toEqual([
      { number: 1, text: '{"a":"é"}' },
      { number: 2, text: "" },
      { number: 3, text: '{"b":"日本"}' },
    ]);
  });

  it("refuses a line longer than the limit without waiting for its end, and bytes that are not UTF-8", () => {
    const splitter = new LineSplitter();
    splitter.push(bytes("ok\n"));
    expect(() => splitter.push(bytes("x".repeat(MAX_LINE_CHARS + 1)))).toThrow(LineTooLongError);
    expect(() => new LineSplitter().push(new Uint8Array([0x7b, 0xff, 0x0a]))).toThrow(NotUtf8Error);
  });
});

describe("fixedSizeChunks", () => {
  async function* pieces(...texts: string[]) {
    yield* texts;
  }

  it("cuts produced text into equal chunks at running offsets, the last one marked and shorter", async () => {
    const chunks = [];
    for await (const chunk of fixedSizeChunks(pieces("abcd", "efghij", "k"), 4)) chunks.push({ text: new TextDecoder().decode(chunk.bytes), offset: chunk.offset, last: chunk.last });
    expect(chunks).toEqual([
      { text: "abcd", offset: 0, last: false },
      { text: "efgh", offset: 4, last: false },
      { text: "ijk", offset: 8, last: true },
    ]);
  });

  it("holds a full chunk back until more follows, so the final chunk is always marked last", async () => {
    const chunks = [];
    for await (const chunk of fixedSizeChunks(pieces("abcdefgh"), 4)) chunks.push({ size: chunk.bytes.byteLength, offset: chunk.offset, last: chunk.last });
    expect(chunks).toEqual([
      { size: 4, offset: 0, last: false },
      { size: 4, offset: 4, last: true },
    ]);
    const empty = [];
    for await (const chunk of fixedSizeChunks(pieces(), 4)) empty.push({ size: chunk.bytes.byteLength, last: chunk.last });
    expect(empty).toEqual([{ size: 0, last: true }]);
  });
});
