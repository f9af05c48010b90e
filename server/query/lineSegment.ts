import { copyBytes } from '../copyBytes';

/** Tag of a stored line's stream: 0 stdout, 1 stderr (bit `1 << tag` in a stream mask). */
export type LineTag = 0 | 1;

/** A segment stops growing at this many bytes (a longer line gets a segment of its own). */
export const SEGMENT_BYTES = 1024 * 1024;
/** Most lines in one segment, so that its offset index stays small (4 bytes a line). */
export const SEGMENT_LINES = 64 * 1024;
/** A new segment starts this small and doubles, so a quiet agent does not hold 1 MiB. */
const FIRST_BYTES = 4096;
const FIRST_LINES = 64;
/** Lines between two stream-count checkpoints: paging one stream scans at most this many tags. */
export const CHECKPOINT_LINES = 256;

/**
 * An immutable window over a segment's lines, cheap to post to a worker thread: the typed
 * arrays live on SharedArrayBuffers, which `postMessage` shares instead of copying. Lines
 * `from … to - 1` never change once stored (a segment only appends, and growing copies into a
 * new buffer), so a view stays valid while the store goes on.
 */
export interface SegmentView {
  /** UTF-8 bytes of the lines, back to back, without newlines. */
  readonly bytes: Uint8Array;
  /** `ends[i]`: end offset (exclusive) of line i in `bytes`; line i starts at `ends[i - 1]` (0 for i = 0). */
  readonly ends: Uint32Array;
  /** Stream tag of each line. */
  readonly tags: Uint8Array;
  /** First line index of the window. */
  readonly from: number;
  /** Line index after the window's last line. */
  readonly to: number;
  /** Every line of the window is ASCII, so latin1 decoding (faster) gives the same text. */
  readonly ascii: boolean;
}

function sharedBytes(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(length));
}

function sharedU32(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(length * 4));
}

function sharedU8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** Text of line `i` of a view (or segment arrays): UTF-8, or latin1 when known to be ASCII. */
export function decodeLine(view: Pick<SegmentView, 'bytes' | 'ends' | 'ascii'>, i: number): string {
  const start = i === 0 ? 0 : (view.ends[i - 1] ?? 0);
  const end = view.ends[i] ?? start;
  const buf = Buffer.isBuffer(view.bytes)
    ? view.bytes
    : Buffer.from(view.bytes.buffer, view.bytes.byteOffset, view.bytes.byteLength);
  return buf.toString(view.ascii ? 'latin1' : 'utf8', start, end);
}

/**
 * A run of stored lines in arrival order: UTF-8 bytes back to back in a SharedArrayBuffer, an
 * end-offset index and a stream tag per line (5 bytes of index a line). It grows by doubling
 * (copying into a new buffer, so views handed out earlier stay valid) up to
 * {@link SEGMENT_BYTES} / {@link SEGMENT_LINES}; then the store starts the next segment.
 */
export class LineSegment {
  private bytes: Buffer;
  private ends: Uint32Array;
  private tags: Uint8Array;
  private used = 0;
  private lines = 0;
  private allAscii = true;
  /** `stderrAt[k]`: stderr lines among the first `k * CHECKPOINT_LINES` lines. */
  private readonly stderrAt: number[] = [0];
  private stderrTotal = 0;

  /**
   * @param firstSeq the store's sequence number of line 0
   * @param stamp creation order among all segments of a server (oldest output first)
   * @param firstLineBytes bytes of the first line, so the first buffer fits it
   * @param maxBytes bytes after which {@link fits} says no (default {@link SEGMENT_BYTES})
   * @param maxLines lines after which {@link fits} says no (default {@link SEGMENT_LINES})
   * @param after the full segment this one follows: starting at the capacity that one grew to
   *   spares a store that fills segment after segment (a flooding agent) every doubling step
   *   on the way, each a new SharedArrayBuffer and a copy
   */
  constructor(
    readonly firstSeq: number,
    readonly stamp: number,
    firstLineBytes = 0,
    private readonly maxBytes = SEGMENT_BYTES,
    private readonly maxLines = SEGMENT_LINES,
    after?: LineSegment,
  ) {
    const hint = Math.min(after?.bytes.byteLength ?? 0, maxBytes);
    this.bytes = sharedBytes(Math.max(FIRST_BYTES, firstLineBytes, hint));
    const lines = Math.max(FIRST_LINES, Math.min(after?.ends.length ?? 0, maxLines));
    this.ends = sharedU32(lines);
    this.tags = sharedU8(lines);
  }

  /** Lines stored. */
  get count(): number {
    return this.lines;
  }

  /** Bytes of the lines stored (without newlines). */
  get byteLength(): number {
    return this.used;
  }

  /** Bytes of memory this segment's buffers take (its capacity, index included). */
  get capacityBytes(): number {
    return this.bytes.byteLength + this.ends.byteLength + this.tags.byteLength;
  }

  /** Whether a line of `n` bytes may still go here (an empty segment takes any line). */
  fits(n: number): boolean {
    if (this.lines === 0) return true;
    return this.lines < this.maxLines && this.used + n <= this.maxBytes;
  }

  /**
   * Appends `src[start, end)` as one line. The caller checked {@link fits}.
   * @param ascii whether those bytes are all ASCII
   */
  push(src: Uint8Array, start: number, end: number, tag: LineTag, ascii: boolean): void {
    const n = end - start;
    if (this.used + n > this.bytes.byteLength) this.growBytes(this.used + n);
    if (this.lines === this.ends.length) this.growLines();
    const at = this.used;
    copyBytes(src, start, end, this.bytes, at);
    const used = at + n;
    this.used = used;
    const line = this.lines;
    if (line % CHECKPOINT_LINES === 0) this.stderrAt[line / CHECKPOINT_LINES] = this.stderrTotal;
    this.ends[line] = used;
    this.tags[line] = tag;
    this.lines = line + 1;
    this.stderrTotal += tag;
    if (!ascii) this.allAscii = false;
  }

  /**
   * Appends the lines of `src[start, end)` that each end in `\n` and need no other care: no
   * `\r` before the newline, at most `maxLineBytes` bytes, and room here as {@link fits} counts
   * it. Stops at the first line that is not such a line (or does not fit, or has no newline
   * before `end`), which the caller stores through {@link push}. One loop over the bytes
   * instead of a call per line: a flooding agent's short lines cost a few ns each.
   * @param ascii whether `src[start, end)` is all ASCII
   * @returns the offset in `src` after the last newline taken (`start` when none was)
   */
  pushLines(
    src: Uint8Array,
    start: number,
    end: number,
    tag: LineTag,
    ascii: boolean,
    maxLineBytes: number,
  ): number {
    if (this.lines >= this.maxLines || this.used >= this.maxBytes) return start;
    // Bytes stored ≤ bytes scanned, so scanning at most `room` keeps within maxBytes (as fits
    // does) and within the capacity reserved here.
    const room = Math.min(end - start, this.maxBytes - this.used);
    if (this.used + room > this.bytes.byteLength) this.growBytes(this.used + room);
    if (this.lines === this.ends.length) this.growLines();
    const bytes = this.bytes;
    const ends = this.ends;
    const tags = this.tags;
    const lastLine = Math.min(this.maxLines, ends.length);
    const stop = start + room;
    const first = this.lines;
    let line = first;
    let stderr = this.stderrTotal;
    let p = this.used;
    let lineStart = p;
    let taken = start;
    for (let i = start; i < stop;) {
      const b = src[i++] as number;
      if (b !== 0x0a) {
        bytes[p++] = b;
        continue;
      }
      const n = p - lineStart;
      if (n > maxLineBytes || (n > 0 && bytes[p - 1] === 0x0d)) break;
      if (line % CHECKPOINT_LINES === 0) this.stderrAt[line / CHECKPOINT_LINES] = stderr;
      ends[line] = p;
      tags[line] = tag;
      stderr += tag;
      line++;
      lineStart = p;
      taken = i;
      if (line === lastLine) break;
    }
    // Bytes copied past the last newline taken lie beyond `used`: no line (or view) covers them.
    this.used = lineStart;
    this.lines = line;
    this.stderrTotal = stderr;
    if (!ascii && line > first) this.allAscii = false;
    return taken;
  }

  /** Moves the bytes to a buffer of at least `size` (doubling, up to the segment's limit). */
  private growBytes(size: number): void {
    let next = Math.max(FIRST_BYTES, this.bytes.byteLength * 2);
    while (next < size) next *= 2;
    const bytes = sharedBytes(Math.min(next, Math.max(this.maxBytes, size)));
    this.bytes.copy(bytes, 0, 0, this.used);
    this.bytes = bytes;
  }

  /** Doubles the line index (up to the segment's limit; one more line at least). */
  private growLines(): void {
    const size = Math.min(
      Math.max(FIRST_LINES, this.ends.length * 2),
      Math.max(this.maxLines, this.lines + 1),
    );
    const ends = sharedU32(size);
    ends.set(this.ends);
    const tags = sharedU8(size);
    tags.set(this.tags);
    this.ends = ends;
    this.tags = tags;
  }

  /** Bytes of line `i`. */
  lineBytes(i: number): number {
    return (this.ends[i] ?? 0) - (i === 0 ? 0 : (this.ends[i - 1] ?? 0));
  }

  /** Stream tag of line `i`. */
  tag(i: number): LineTag {
    return this.tags[i] === 1 ? 1 : 0;
  }

  /** Text of line `i`. */
  line(i: number): string {
    return decodeLine({ bytes: this.bytes, ends: this.ends, ascii: this.allAscii }, i);
  }

  /** Lines with tag `tag` among lines `0 … i - 1`; O(CHECKPOINT_LINES). */
  countBefore(tag: LineTag, i: number): number {
    let stderr: number;
    if (i >= this.lines) stderr = this.stderrTotal;
    else {
      const k = Math.floor(i / CHECKPOINT_LINES);
      stderr = this.stderrAt[k] ?? 0;
      for (let j = k * CHECKPOINT_LINES; j < i; j++) stderr += this.tags[j] ?? 0;
    }
    return tag === 1 ? stderr : i - stderr;
  }

  /**
   * Index of the line with tag `tag` that has `rank` such lines before it in this segment, or
   * -1. Binary search over the checkpoints, then a scan of at most {@link CHECKPOINT_LINES}.
   */
  indexOfRank(tag: LineTag, rank: number): number {
    if (rank < 0 || rank >= this.countBefore(tag, this.lines)) return -1;
    let lo = 0;
    let hi = this.stderrAt.length - 1;
    // The last checkpoint k whose count before it is <= rank.
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.countBefore(tag, mid * CHECKPOINT_LINES) <= rank) lo = mid;
      else hi = mid - 1;
    }
    let seen = this.countBefore(tag, lo * CHECKPOINT_LINES);
    for (let j = lo * CHECKPOINT_LINES; j < this.lines; j++) {
      if (this.tags[j] !== tag) continue;
      if (seen === rank) return j;
      seen++;
    }
    return -1;
  }

  /**
   * Index of the first line at or after `i` with tag `tag`, or {@link count} when there is
   * none; whole checkpoint blocks without such a line are skipped.
   */
  nextOfTag(tag: LineTag, i: number): number {
    let j = i;
    while (j < this.lines) {
      if (j % CHECKPOINT_LINES === 0) {
        const blockEnd = Math.min(this.lines, j + CHECKPOINT_LINES);
        if (this.countBefore(tag, blockEnd) === this.countBefore(tag, j)) {
          j = blockEnd;
          continue;
        }
      }
      if (this.tags[j] === tag) return j;
      j++;
    }
    return this.lines;
  }

  /** A view of lines `from … to - 1` (see {@link SegmentView}). */
  view(from: number, to: number): SegmentView {
    return { bytes: this.bytes, ends: this.ends, tags: this.tags, from, to, ascii: this.allAscii };
  }

  /** Gives back unused capacity (when no more lines are expected soon, e.g. the agent exited). */
  trim(): void {
    if (this.bytes.byteLength > this.used) {
      const bytes = sharedBytes(this.used);
      this.bytes.copy(bytes, 0, 0, this.used);
      this.bytes = bytes;
    }
    if (this.ends.length > this.lines) {
      const size = Math.max(1, this.lines);
      const ends = sharedU32(size);
      ends.set(this.ends.subarray(0, this.lines));
      const tags = sharedU8(size);
      tags.set(this.tags.subarray(0, this.lines));
      this.ends = ends;
      this.tags = tags;
    }
  }
}
