/** The codec's one test for "all ASCII", on the decoder's short strings and the encoder's log bytes alike. */

/** From this many bytes on, the range is checked four bytes at a time through a word view. */
const WORD_SCAN_MIN = 64;

/**
 * Whether every byte of `buf[start, end)` is below 0x80. Short ranges (most strings) are read
 * eight bytes a step; long ones (log output) as aligned 32-bit words, the unaligned head and
 * tail byte by byte, a quarter of the loop a 64 KiB chunk would otherwise take.
 */
export function isAscii(buf: Uint8Array, start = 0, end = buf.length): boolean {
  if (end - start >= WORD_SCAN_MIN) return isAsciiByWords(buf, start, end);
  let bits = 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    bits |=
      (buf[i] as number) |
      (buf[i + 1] as number) |
      (buf[i + 2] as number) |
      (buf[i + 3] as number) |
      (buf[i + 4] as number) |
      (buf[i + 5] as number) |
      (buf[i + 6] as number) |
      (buf[i + 7] as number);
  }
  for (; i < end; i++) bits |= buf[i] as number;
  return bits < 0x80;
}

function isAsciiByWords(buf: Uint8Array, start: number, end: number): boolean {
  const at = buf.byteOffset + start;
  const head = Math.min(end - start, (4 - (at & 3)) & 3);
  const words = (end - start - head) >>> 2;
  const tail = start + head + words * 4;
  let any = 0;
  for (let i = start; i < start + head; i++) any |= buf[i] as number;
  const u32 = new Uint32Array(buf.buffer, at + head, words);
  for (let k = 0; k < words; k++) any |= u32[k] as number;
  for (let i = tail; i < end; i++) any |= buf[i] as number;
  return (any & 0x80808080) === 0;
}
