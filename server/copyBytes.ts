/**
 * Below this many bytes a plain loop is faster than `Buffer#copy` / `TypedArray#set`: both make
 * a new typed-array view per call (and cross into C++), which for the short lines agents
 * typically print cost several times the copying itself (see `bench/serverThroughput.bench.ts`,
 * ingest).
 */
const NATIVE_FROM = 64;

/**
 * Copies `src[start, end)` into `dst` at `at`. The caller makes sure it fits (a range beyond
 * `dst` throws a RangeError for long copies and is cut short for short ones, like `Buffer#copy`).
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
  if (end - start >= NATIVE_FROM) {
    dst.set(src.subarray(start, end), at);
    return;
  }
  for (let i = start, j = at; i < end; i++, j++) dst[j] = src[i] as number;
}
