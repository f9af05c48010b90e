import { isAscii } from 'node:buffer';
import type { LineStoreLimits } from './config';
import { decodeLine, LineSegment } from './query/lineSegment';
import type { LineTag, SegmentView } from './query/lineSegment';
import type { BudgetedStore, OutputBudget } from './query/outputBudget';

/** Stream of a stored line. */
export type LineStream = 'stdout' | 'stderr';
/** Which lines a query or read looks at. */
export type StreamSelector = LineStream | 'both';

const TAG: Record<LineStream, LineTag> = { stdout: 0, stderr: 1 };
/** Bit `1 << tag` set for each stream a selector takes. */
export const STREAM_MASK: Record<StreamSelector, number> = { stdout: 1, stderr: 2, both: 3 };

/** A page of stored lines. */
export interface LineQueryResult {
  readonly lines: string[];
  /** Stored lines that match (stream and filter), regardless of offset/limit. */
  readonly totalLines: number;
  /** `offset + lines.length < totalLines`. */
  readonly hasMore: boolean;
}

/** How a {@link LineStore} is built beyond its limits. */
export interface LineStoreOptions {
  /** Bytes after which a new segment is started (default 1 MiB). */
  readonly segmentBytes?: number;
  /** Lines after which a new segment is started (default 65,536). */
  readonly segmentLines?: number;
  /** The server-wide budget this store counts against and may be shed by (none: only `limits`). */
  readonly budget?: OutputBudget;
  /**
   * Told of every line as it is stored (`src[start, end)`, tag 0 = stdout, 1 = stderr), e.g. to
   * append it to the state dir's output file. Runs on the output path: it must only buffer.
   */
  readonly onLine?: (tag: LineTag, src: Uint8Array, start: number, end: number) => void;
  /**
   * Told of a run of lines stored as they came, instead of {@link onLine} for each: `src[start,
   * end)` is `count` lines, each followed by its `\n` (the last one too), none with a `\r`
   * before it. Runs on the output path: it must only buffer.
   */
  readonly onLines?: (tag: LineTag, src: Uint8Array, start: number, end: number, count: number) => void;
}

/** The lines of one appended chunk, as {@link LineStore} stores runs of them. */
interface ChunkLines {
  readonly tag: LineTag;
  readonly src: Buffer;
  /** Whether all of `src` is ASCII. */
  readonly ascii: boolean;
  /** Where the stored lines go as text, when the caller collects them. */
  readonly added: string[] | null;
}

/** Where a segment begins in the numbering: its first sequence number and lines of each tag before it. */
interface NumberBase {
  readonly seq: number;
  readonly rank: readonly [number, number];
}

/** Original numbers and streams of some lines (see {@link LineSnapshot.numbers}). */
export interface NumberedLines {
  readonly numbers: number[];
  readonly streams: LineStream[];
}

/** A line returned by {@link LineStore.nextLine}, with the cursor to pass next time. */
export interface CursorLine {
  readonly line: string;
  readonly next: number;
}

/**
 * The stored lines at one moment, as views that stay valid while the store goes on (see
 * {@link SegmentView}): what a regex query hands to a worker thread.
 */
export class LineSnapshot {
  /**
   * @param views what a scan reads
   * @param bases per view, the line numbering where its segment begins (see {@link numbers})
   * @param segments per view, its segment (its existing lines never change; counted with its checkpoints)
   */
  constructor(
    readonly views: readonly SegmentView[],
    private readonly bases: readonly NumberBase[] = [],
    private readonly segments: readonly LineSegment[] = [],
  ) {}

  /**
   * Original line numbers (1-based, dropped lines counted in, so they stay the same as older
   * lines are dropped) and streams of the lines at `positions` (as {@link lines} takes them):
   * for `both` the line's place among all lines ever stored, for one stream among that stream's.
   */
  numbers(positions: ArrayLike<number>, stream: StreamSelector): NumberedLines {
    const numbers: number[] = [];
    const streams: LineStream[] = [];
    for (let k = 0; k + 1 < positions.length; k += 2) {
      const v = positions[k] ?? -1;
      const i = positions[k + 1] ?? 0;
      const base = this.bases[v];
      const seg = this.segments[v];
      if (!base || !seg) continue;
      const tag = seg.tag(i);
      streams.push(tag === 1 ? 'stderr' : 'stdout');
      numbers.push(stream === 'both' ? base.seq + i + 1 : base.rank[tag] + seg.countBefore(tag, i) + 1);
    }
    return { numbers, streams };
  }

  /** Lines at `positions` (pairs of view index and line index, as a scan returns them). */
  lines(positions: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let k = 0; k + 1 < positions.length; k += 2) {
      const view = this.views[positions[k] ?? -1];
      out.push(view ? decodeLine(view, positions[k + 1] ?? 0) : '');
    }
    return out;
  }
}

/**
 * Bounded history of an agent's stdout and stderr lines in arrival order.
 *
 * Bytes are split on `\n` (a trailing `\r` is stripped); a partial last line waits for its
 * newline or {@link flush}; a line longer than `maxLineBytes` is split into pieces (at a UTF-8
 * boundary). When more than `maxLines` lines or `maxBytes` bytes are stored, the oldest lines
 * are evicted (dropped); {@link dropped} counts them.
 *
 * Storage: lines are kept as UTF-8 bytes in segments of up to 1 MiB on SharedArrayBuffers (see
 * {@link LineSegment}), 5 bytes of index per line: about 1.05× the raw bytes for 100-byte lines,
 * plus at most one partly used segment. Regex queries hand the segments to worker threads
 * without copying ({@link snapshot}); reading by offset costs O(log segments + limit) for both
 * streams, plus O(segments + 256) for one stream.
 *
 * With a server-wide {@link OutputBudget}, the store counts against it and the budget may drop
 * its oldest lines ({@link shed}); call {@link retire} when the agent exits and {@link release}
 * when it is forgotten.
 *
 * Every line gets a sequence number (0 for the first line ever stored); cursors of
 * {@link nextLine} are such numbers and survive eviction.
 */
export class LineStore implements BudgetedStore {
  private readonly segments: LineSegment[] = [];
  private firstSeq = 0;
  private nextSeq = 0;
  private storedBytes = 0;
  /** Stored lines per tag. */
  private readonly stored = [0, 0];
  /** Dropped lines per tag. */
  private readonly droppedByTag = [0, 0];
  private readonly pending: Record<LineStream, { parts: Buffer[]; bytes: number }> = {
    stdout: { parts: [], bytes: 0 },
    stderr: { parts: [], bytes: 0 },
  };

  /**
   * @param limits bounds of the store
   * @param options segment size (tests make it small to cross segment boundaries often)
   */
  constructor(
    private readonly limits: LineStoreLimits,
    private readonly options: LineStoreOptions = {},
  ) {
    options.budget?.register(this);
  }

  /** Lines stored now. */
  get lineCount(): number {
    return this.nextSeq - this.firstSeq;
  }

  /** UTF-8 bytes of the stored lines (without newlines). */
  get byteCount(): number {
    return this.storedBytes;
  }

  /**
   * Bytes of SharedArrayBuffer memory the store's segments hold (capacity and line index,
   * dropped lines of a partly dropped segment included). `process.memoryUsage().external`
   * does not count SharedArrayBuffers (only `arrayBuffers` does).
   */
  get capacityBytes(): number {
    let bytes = 0;
    for (const seg of this.segments) bytes += seg.capacityBytes;
    return bytes;
  }

  /** Lines dropped so far to stay within the bounds (both streams). */
  get evicted(): number {
    return (this.droppedByTag[0] ?? 0) + (this.droppedByTag[1] ?? 0);
  }

  /** Sequence number the next stored line will get. */
  get endSeq(): number {
    return this.nextSeq;
  }

  /** Creation stamp of the oldest segment (see {@link OutputBudget.nextStamp}), or null when empty. */
  get oldestStamp(): number | null {
    return this.lineCount > 0 ? (this.segments[0]?.stamp ?? null) : null;
  }

  /** Lines of the selected stream(s) dropped so far, older than every stored line. */
  dropped(stream: StreamSelector): number {
    const mask = STREAM_MASK[stream];
    return (mask & 1 ? (this.droppedByTag[0] ?? 0) : 0) + (mask & 2 ? (this.droppedByTag[1] ?? 0) : 0);
  }

  /**
   * Adds raw output of one stream.
   * @param collect whether to return the lines as text (decoding costs; only needed while
   *   something waits for a line, e.g. an action result)
   * @returns the complete lines this chunk finished, in order, when `collect`; else []
   */
  append(stream: LineStream, chunk: Uint8Array, collect = false): string[] {
    const bytesBefore = this.storedBytes;
    const droppedBefore = this.evicted;
    const added: string[] | null = collect ? [] : null;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const tag = TAG[stream];
    const pend = this.pending[stream];
    // One native check for the whole chunk: a pure-ASCII chunk (the usual case) needs none per line.
    const chunkAscii = isAscii(buf);
    // Lines up to the last newline go in runs (see storeRun); what a run leaves (a line that
    // completes a partial one, has a \r, is too long, or starts a segment) goes one at a time.
    const runEnd = buf.lastIndexOf(0x0a) + 1;
    const chunkLines: ChunkLines = { tag, src: buf, ascii: chunkAscii, added };
    let start = 0;
    while (start < runEnd) {
      if (pend.bytes === 0) {
        const taken = this.storeRun(chunkLines, start, runEnd);
        if (taken > start) {
          start = taken;
          continue;
        }
      }
      const nl = buf.indexOf(0x0a, start);
      if (pend.bytes > 0) this.finishPending(stream, buf.subarray(start, nl), added);
      else this.storeLine(tag, buf, start, nl, chunkAscii, added);
      start = nl + 1;
    }
    if (start < buf.length) {
      pend.parts.push(Buffer.from(buf.subarray(start)));
      pend.bytes += buf.length - start;
      while (this.pendingTooLong(stream)) this.splitLongPending(stream, added);
    }
    this.settle(bytesBefore, droppedBefore);
    return added ?? [];
  }

  /**
   * Stores a stream's partial last line, if any (call when the stream ends).
   * @returns the line stored, as a one-element array, or an empty array
   */
  flush(stream: LineStream): string[] {
    const pend = this.pending[stream];
    if (pend.bytes === 0) return [];
    const bytesBefore = this.storedBytes;
    const droppedBefore = this.evicted;
    const added: string[] = [];
    this.finishPending(stream, Buffer.alloc(0), added);
    this.settle(bytesBefore, droppedBefore);
    return added;
  }

  /**
   * Counts lines that were dropped before this store was filled (output of an earlier server
   * run that its disk budget let go): they are older than every line stored, so sequence
   * numbers start after them. Only on an empty store.
   * @throws Error when lines were stored already
   */
  skipDropped(stdout: number, stderr: number): void {
    if (this.nextSeq !== this.firstSeq || this.segments.length > 0) {
      throw new Error('skipDropped: the store already holds lines');
    }
    this.droppedByTag[0] = (this.droppedByTag[0] ?? 0) + stdout;
    this.droppedByTag[1] = (this.droppedByTag[1] ?? 0) + stderr;
    this.firstSeq += stdout + stderr;
    this.nextSeq = this.firstSeq;
  }

  /** Gives back the unused capacity of the newest segment (call when no more output is expected). */
  trim(): void {
    this.segments.at(-1)?.trim();
  }

  /**
   * The agent exited: gives back unused capacity, and under a budget its output is now dropped
   * before any running agent's. Output that still arrives (a grandchild holding the pipe) is
   * stored as before.
   */
  retire(): void {
    this.trim();
    this.options.budget?.markExited(this);
  }

  /** The agent is forgotten: its bytes no longer count against the budget. */
  release(): void {
    this.options.budget?.unregister(this);
  }

  /**
   * Drops the oldest lines, at least one and at most the rest of the oldest segment, until
   * `bytes` are freed (for the budget; see {@link OutputBudget.enforce}).
   */
  shed(bytes: number): void {
    const seg = this.segments[0];
    if (!seg || this.lineCount === 0) return;
    const bytesBefore = this.storedBytes;
    const droppedBefore = this.evicted;
    const segEnd = seg.firstSeq + seg.count;
    do this.evictOne();
    while (bytesBefore - this.storedBytes < bytes && this.firstSeq < segEnd && this.lineCount > 0);
    this.options.budget?.changed(this.storedBytes - bytesBefore, this.evicted - droppedBefore);
  }

  /** Tells the budget what an append did, and lets it shed the oldest output when over. */
  private settle(bytesBefore: number, droppedBefore: number): void {
    const budget = this.options.budget;
    if (!budget) return;
    budget.changed(this.storedBytes - bytesBefore, this.evicted - droppedBefore);
    budget.enforce();
  }

  /** `tail` completes the pending partial line of `stream`. */
  private finishPending(stream: LineStream, tail: Buffer, added: string[] | null): void {
    const pend = this.pending[stream];
    const bytes = Buffer.concat([...pend.parts, tail]);
    pend.parts = [];
    pend.bytes = 0;
    this.storeLine(TAG[stream], bytes, 0, bytes.length, isAscii(bytes), added);
  }

  /**
   * Whether the partial line of `stream` is longer than `maxLineBytes`, not counting a `\r` it
   * ends with: that `\r` is no content if the `\n` comes next, so a line of exactly
   * `maxLineBytes` whose `\r` and `\n` arrive apart stays one line, as when they arrive together.
   */
  private pendingTooLong(stream: LineStream): boolean {
    const pend = this.pending[stream];
    const last = pend.parts.at(-1);
    const endsWithCr = last !== undefined && last[last.length - 1] === 0x0d;
    return pend.bytes - (endsWithCr ? 1 : 0) > this.limits.maxLineBytes;
  }

  private splitLongPending(stream: LineStream, added: string[] | null): void {
    const pend = this.pending[stream];
    const all = Buffer.concat(pend.parts);
    const cut = utf8Boundary(all, this.limits.maxLineBytes, 0);
    this.storeRaw(TAG[stream], all, 0, cut, isAscii(all.subarray(0, cut)), added);
    pend.parts = cut < all.length ? [all.subarray(cut)] : [];
    pend.bytes = all.length - cut;
  }

  /** Stores `src[start, end)` as a line: strips a trailing `\r`, splits it beyond `maxLineBytes`. */
  private storeLine(
    tag: LineTag,
    src: Buffer,
    start: number,
    end: number,
    ascii: boolean,
    added: string[] | null,
  ): void {
    const stop = end > start && src[end - 1] === 0x0d ? end - 1 : end;
    let pos = start;
    while (stop - pos > this.limits.maxLineBytes) {
      const cut = utf8Boundary(src, pos + this.limits.maxLineBytes, pos, stop);
      this.storeRaw(tag, src, pos, cut, ascii || isAscii(src.subarray(pos, cut)), added);
      pos = cut;
    }
    this.storeRaw(tag, src, pos, stop, ascii || isAscii(src.subarray(pos, stop)), added);
  }

  private storeRaw(
    tag: LineTag,
    src: Buffer,
    start: number,
    end: number,
    ascii: boolean,
    added: string[] | null,
  ): void {
    const n = end - start;
    let seg = this.segments.at(-1);
    if (!seg?.fits(n)) {
      const stamp = this.options.budget?.nextStamp() ?? 0;
      seg = new LineSegment(
        this.nextSeq,
        stamp,
        n,
        this.options.segmentBytes,
        this.options.segmentLines,
        seg,
      );
      this.segments.push(seg);
    }
    seg.push(src, start, end, tag, ascii);
    this.options.onLine?.(tag, src, start, end);
    this.nextSeq++;
    this.storedBytes += n;
    this.stored[tag] = (this.stored[tag] ?? 0) + 1;
    added?.push(src.toString('utf8', start, end));
    this.evictOver();
  }

  /**
   * Stores the lines of `src[start, end)` that the newest segment takes in one go (see
   * {@link LineSegment.pushLines}): exactly what {@link storeLine} would store for each, in the
   * same segment. Evicting once after the run leaves the same lines as evicting after each
   * line, since dropping the oldest only ever helps later lines fit; no run line alone exceeds
   * `maxBytes`, so eviction never empties the segment mid-run.
   * @returns the offset after the run (`start` when the next line needs {@link storeLine})
   */
  private storeRun(chunk: ChunkLines, start: number, end: number): number {
    const { tag, src, ascii, added } = chunk;
    const seg = this.segments.at(-1);
    if (!seg) return start;
    const linesBefore = seg.count;
    const bytesBefore = seg.byteLength;
    const maxLine = Math.min(this.limits.maxLineBytes, this.limits.maxBytes);
    const taken = seg.pushLines(src, start, end, tag, ascii, maxLine);
    const count = seg.count - linesBefore;
    if (count === 0) return start;
    const { onLine, onLines } = this.options;
    if (onLines) onLines(tag, src, start, taken, count);
    else if (onLine) {
      for (let a = start, i = linesBefore; i < seg.count; i++) {
        const b = a + seg.lineBytes(i);
        onLine(tag, src, a, b);
        a = b + 1;
      }
    }
    if (added) for (let i = linesBefore; i < seg.count; i++) added.push(seg.line(i));
    this.nextSeq += count;
    this.storedBytes += seg.byteLength - bytesBefore;
    this.stored[tag] = (this.stored[tag] ?? 0) + count;
    this.evictOver();
    return taken;
  }

  /** Drops the oldest lines while more than `maxLines` lines or `maxBytes` bytes are stored. */
  private evictOver(): void {
    while (
      this.lineCount > 0 &&
      (this.lineCount > this.limits.maxLines || this.storedBytes > this.limits.maxBytes)
    ) {
      this.evictOne();
    }
  }

  /** Drops the oldest stored line. */
  private evictOne(): void {
    const seg = this.segments[0];
    if (!seg) return;
    const i = this.firstSeq - seg.firstSeq;
    const tag = seg.tag(i);
    this.storedBytes -= seg.lineBytes(i);
    this.stored[tag] = (this.stored[tag] ?? 0) - 1;
    this.droppedByTag[tag] = (this.droppedByTag[tag] ?? 0) + 1;
    this.firstSeq++;
    // A segment whose lines are all dropped is let go (views handed out keep their own reference).
    if (i + 1 === seg.count) this.segments.shift();
  }

  /** Index in `segments` of the segment holding sequence number `seq` (which is stored). */
  private segmentOf(seq: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((this.segments[mid]?.firstSeq ?? 0) <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * The next stored line of `stream` at or after sequence number `cursor` (older lines that were
   * evicted are skipped).
   * @returns the line and the cursor for the next call, or null (then `next` = {@link endSeq})
   */
  nextLine(stream: LineStream, cursor: number): CursorLine | null {
    const tag = TAG[stream];
    let seq = Math.max(cursor, this.firstSeq);
    if (seq >= this.nextSeq) return null;
    for (let s = this.segmentOf(seq); s < this.segments.length; s++) {
      const seg = this.segments[s] as LineSegment;
      const i = seg.nextOfTag(tag, seq - seg.firstSeq);
      if (i < seg.count) return { line: seg.line(i), next: seg.firstSeq + i + 1 };
      seq = seg.firstSeq + seg.count;
    }
    return null;
  }

  /**
   * Unfiltered, non-destructive read of the stored lines of `stream`, oldest first: lines
   * `offset … offset + limit - 1` of that stream. Cost O(log segments + limit) for `both`;
   * for one stream O(segments + 256 + limit).
   */
  read(stream: StreamSelector, offset: number, limit: number): LineQueryResult {
    const off = Math.max(0, Math.floor(offset));
    const lim = Math.max(0, Math.floor(limit));
    if (stream === 'both') {
      const total = this.lineCount;
      const lines: string[] = [];
      const from = this.firstSeq + off;
      const to = Math.min(this.nextSeq, from + lim);
      if (from < to) {
        let s = this.segmentOf(from);
        for (let seq = from; seq < to; seq++) {
          let seg = this.segments[s] as LineSegment;
          if (seq - seg.firstSeq >= seg.count) seg = this.segments[++s] as LineSegment;
          lines.push(seg.line(seq - seg.firstSeq));
        }
      }
      return { lines, totalLines: total, hasMore: off + lines.length < total };
    }
    const tag = TAG[stream];
    const total = this.stored[tag] ?? 0;
    const lines: string[] = [];
    let skip = off;
    for (let s = 0; s < this.segments.length && lines.length < lim && skip < total; s++) {
      const seg = this.segments[s] as LineSegment;
      const first = s === 0 ? this.firstSeq - seg.firstSeq : 0;
      const before = seg.countBefore(tag, first);
      const here = seg.countBefore(tag, seg.count) - before;
      if (skip >= here) {
        skip -= here;
        continue;
      }
      let i = seg.indexOfRank(tag, before + skip);
      skip = 0;
      while (i >= 0 && i < seg.count && lines.length < lim) {
        lines.push(seg.line(i));
        i = seg.nextOfTag(tag, i + 1);
      }
    }
    return { lines, totalLines: total, hasMore: off + lines.length < total };
  }

  /** Streams of the stored lines `offset … offset + count - 1` of `both` (as {@link read} returns them). */
  streamsAt(offset: number, count: number): LineStream[] {
    const out: LineStream[] = [];
    const from = this.firstSeq + Math.max(0, Math.floor(offset));
    const to = Math.min(this.nextSeq, from + Math.max(0, Math.floor(count)));
    if (from >= to) return out;
    let s = this.segmentOf(from);
    for (let seq = from; seq < to; seq++) {
      let seg = this.segments[s] as LineSegment;
      if (seq - seg.firstSeq >= seg.count) seg = this.segments[++s] as LineSegment;
      out.push(seg.tag(seq - seg.firstSeq) === 1 ? 'stderr' : 'stdout');
    }
    return out;
  }

  /** Views of every stored line, for a regex scan in a worker (O(segments)). */
  snapshot(): LineSnapshot {
    const views: SegmentView[] = [];
    const bases: NumberBase[] = [];
    const segs: LineSegment[] = [];
    // Lines of each tag ever stored before the segment: the dropped ones, less those dropped from
    // the first segment itself, then segment by segment.
    const first = this.segments[0];
    const droppedInFirst = first ? this.firstSeq - first.firstSeq : 0;
    const rank: [number, number] = [
      (this.droppedByTag[0] ?? 0) - (first?.countBefore(0, droppedInFirst) ?? 0),
      (this.droppedByTag[1] ?? 0) - (first?.countBefore(1, droppedInFirst) ?? 0),
    ];
    this.segments.forEach((seg, s) => {
      const from = s === 0 ? droppedInFirst : 0;
      if (from < seg.count) {
        views.push(seg.view(from, seg.count));
        bases.push({ seq: seg.firstSeq, rank: [rank[0], rank[1]] });
        segs.push(seg);
      }
      rank[0] += seg.countBefore(0, seg.count);
      rank[1] += seg.countBefore(1, seg.count);
    });
    return new LineSnapshot(views, bases, segs);
  }
}

/** The largest index ≤ `at` (and > `min`, ≤ `max`) that does not split a UTF-8 sequence. */
function utf8Boundary(buf: Buffer, at: number, min: number, max = buf.length): number {
  let cut = Math.min(at, max);
  while (cut > min + 1 && cut < max && ((buf[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}
