import { describe, expect, it } from 'vitest';
import { copyBytes } from '../../../server/copyBytes';

describe('copyBytes', () => {
  it('copies short and long ranges byte for byte, leaving the rest of the target alone', () => {
    const src = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) % 256);
    for (const [start, end] of [
      [0, 0],
      [5, 6],
      [10, 73], // 63 bytes: the loop
      [10, 74], // 64 bytes: the native copy
      [0, 300],
    ] as const) {
      const dst = new Uint8Array(new SharedArrayBuffer(320)).fill(0xaa);
      copyBytes(src, start, end, dst, 9);
      expect([...dst.subarray(9, 9 + end - start)]).toEqual([...src.subarray(start, end)]);
      expect(dst.subarray(0, 9).every((b) => b === 0xaa)).toBe(true);
      expect(dst.subarray(9 + end - start).every((b) => b === 0xaa)).toBe(true);
    }
  });
});
