import type { LineStoreLimits } from './config';
import { RegexScanner } from './regexFilter';

/** Stream of a stored line. */
export type LineStream = 'stdout' | 'stderr';
/** Which lines a query or read looks at. */
export type StreamSelector = LineStream | 'both';

/** Lines per block of the ring; blocks are dropped whole once every line in them is evicted. */
const BLOCK = 4096;
const TAG: Record<LineStream, number> = { stdout: 0, stderr: 1 };
const MASK: Record<StreamSelector, number> = { stdout: 1, stderr: 2, both: 3 };

interface Block {
  readonly lines: string[];
  readonly tags: Uint8Array;
  /** UTF-8 byte length of each line, for the byte bound. */
  readonly sizes: Uint32Array;
}

export interface LineQuery {
  readonly stream: StreamSelector;
  /** Compiled filter (see `compileFilter`), or null for every line. */
  readonly filter: RegExp | null;
  /** Matching lines to skip, counted from the oldest stored line. */
  readonly offset: number;
  /** Most lines to return; 0 returns only the count. */
  readonly limit: number;
  /** Time budget of the whole query in milliseconds (only a filter can run long). */
  readonly budgetMs: number;
}

export interface LineQueryResult {
  readonly lines: string[];
  /** Stored lines that match (stream and filter), regardless of offset/limit. */
  readonly totalLines: number;
  /** `offset + lines.length < totalLines`. */
  readonly hasMore: boolean;
}

/** A line returned by {@link LineStore.nextLine}, with the cursor to pass next time. */
export interface CursorLine {
  readonly line: string;
  readonly next: number;
}

let sharedScanner: RegexScanner | null = null;

/**
 * Bounded history of an agent's stdout and stderr lines in arrival order.
 *
 * Bytes are split on `\n` (a trailing `\r` is stripped); a partial last line waits for its
 * newline or {@link flush}; a line longer than `maxLineBytes` is split into pieces (at a UTF-8
 * boundary). When more than `maxLines` lines or `maxBytes` bytes are stored, the oldest lines
 * are evicted. Memory: each line is one flat JS string in a block array, plus 5 bytes of typed
 * arrays (stream tag, byte size), about 1.3× the raw bytes for 100-byte ASCII lines.
 *
 * Every line gets a sequence number (0 for the first line ever stored); cursors of
 * {@link nextLine} are such numbers and survive eviction.
 */
export class LineStore {
  private readonly blocks: Block[] = [];
  /** Absolute block number of `blocks[0]`. */
  private baseBlock = 0;
  private firstSeq = 0;
  private nextSeq = 0;
  private storedBytes = 0;
  private evictedLines = 0;
  private readonly pending: Record<LineStream, { parts: Buffer[]; bytes: number }> = {
    stdout: { parts: [], bytes: 0 },
    stderr: { parts: [], bytes: 0 },
  };

  /**
   * @param limits bounds of the store
   * @param scanner runs regex filters under a time budget (one per process is enough)
   */
  constructor(
    private readonly limits: LineStoreLimits,
    private readonly scanner: RegexScanner = (sharedScanner ??= new RegexScanner()),
  ) {}

  /** Lines stored now. */
  get lineCount(): number {
    return this.nextSeq - this.firstSeq;
  }

  /** UTF-8 bytes of the stored lines (without newlines). */
  get byteCount(): number {
    return this.storedBytes;
  }

  /** Lines evicted so far to stay within the bounds. */
  get evicted(): number {
    return this.evictedLines;
  }

  /** Sequence number the next stored line will get. */
  get endSeq(): number {
    return this.nextSeq;
  }

  /**
   * Adds raw output of one stream.
   * @returns the complete lines this chunk finished, in order (to look for action results)
   */
  append(stream: LineStream, chunk: Uint8Array): string[] {
    const added: string[] = [];
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const pend = this.pending[stream];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl === -1) break;
      this.finishLine(stream, buf.subarray(start, nl), added);
      start = nl + 1;
    }
    if (start < buf.length) {
      pend.parts.push(Buffer.from(buf.subarray(start)));
      pend.bytes += buf.length - start;
      while (pend.bytes > this.limits.maxLineBytes) this.splitLongPending(stream, added);
    }
    return added;
  }

  /**
   * Stores a stream's partial last line, if any (call when the stream ends).
   * @returns the line stored, as a one-element array, or an empty array
   */
  flush(stream: LineStream): string[] {
    const pend = this.pending[stream];
    if (pend.bytes === 0) return [];
    const added: string[] = [];
    this.finishLine(stream, Buffer.alloc(0), added);
    return added;
  }

  /** `tail` completes the pending partial line of `stream`; a trailing `\r` is stripped. */
  private finishLine(stream: LineStream, tail: Buffer, added: string[]): void {
    const pend = this.pending[stream];
    let bytes: Buffer = tail;
    if (pend.bytes > 0) {
      bytes = Buffer.concat([...pend.parts, tail]);
      pend.parts = [];
      pend.bytes = 0;
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    let pos = 0;
    while (bytes.length - pos > this.limits.maxLineBytes) {
      const cut = utf8Boundary(bytes, pos + this.limits.maxLineBytes, pos);
      this.store(stream, bytes.toString('utf8', pos, cut), cut - pos, added);
      pos = cut;
    }
    this.store(stream, bytes.toString('utf8', pos), bytes.length - pos, added);
  }

  private splitLongPending(stream: LineStream, added: string[]): void {
    const pend = this.pending[stream];
    const all = Buffer.concat(pend.parts);
    const cut = utf8Boundary(all, this.limits.maxLineBytes, 0);
    this.store(stream, all.toString('utf8', 0, cut), cut, added);
    pend.parts = cut < all.length ? [all.subarray(cut)] : [];
    pend.bytes = all.length - cut;
  }

  private store(stream: LineStream, line: string, bytes: number, added: string[]): void {
    const seq = this.nextSeq;
    const blockNo = Math.floor(seq / BLOCK);
    let block = this.blocks[blockNo - this.baseBlock];
    if (!block) {
      block = { lines: [], tags: new Uint8Array(BLOCK), sizes: new Uint32Array(BLOCK) };
      if (this.blocks.length === 0) this.baseBlock = blockNo;
      this.blocks.push(block);
    }
    const i = seq % BLOCK;
    block.lines.push(line);
    block.tags[i] = TAG[stream];
    block.sizes[i] = bytes;
    this.nextSeq++;
    this.storedBytes += bytes;
    added.push(line);
    this.evict();
  }

  private evict(): void {
    while (
      this.lineCount > 0 &&
      (this.lineCount > this.limits.maxLines || this.storedBytes > this.limits.maxBytes)
    ) {
      const block = this.blocks[0];
      if (!block) break;
      const i = this.firstSeq % BLOCK;
      this.storedBytes -= block.sizes[i] ?? 0;
      block.lines[i] = '';
      this.firstSeq++;
      this.evictedLines++;
      if (this.firstSeq % BLOCK === 0) {
        this.blocks.shift();
        this.baseBlock++;
      }
    }
  }

  /**
   * The next stored line of `stream` at or after sequence number `cursor` (older lines that were
   * evicted are skipped).
   * @returns the line and the cursor for the next call, or null (then `next` = {@link endSeq})
   */
  nextLine(stream: LineStream, cursor: number): CursorLine | null {
    const tag = TAG[stream];
    for (let seq = Math.max(cursor, this.firstSeq); seq < this.nextSeq; seq++) {
      const block = this.blocks[Math.floor(seq / BLOCK) - this.baseBlock];
      if (!block) break;
      const i = seq % BLOCK;
      if (block.tags[i] === tag) return { line: block.lines[i] ?? '', next: seq + 1 };
    }
    return null;
  }

  /**
   * Non-destructive query over the stored lines, oldest first.
   * @throws RegexTimeoutError when the filter runs past `budgetMs`
   */
  query(q: LineQuery): LineQueryResult {
    const offset = Math.max(0, Math.floor(q.offset));
    const limit = Math.max(0, Math.floor(q.limit));
    const count = this.lineCount;
    if (q.stream === 'both' && q.filter === null) {
      const lines: string[] = [];
      const end = Math.min(count, offset + limit);
      for (let k = offset; k < end; k++) {
        const seq = this.firstSeq + k;
        lines.push(this.blocks[Math.floor(seq / BLOCK) - this.baseBlock]?.lines[seq % BLOCK] ?? '');
      }
      return { lines, totalLines: count, hasMore: offset + lines.length < count };
    }
    const result = this.scanner.scan(
      {
        blocks: this.blocks.map((b) => b.lines),
        tags: this.blocks.map((b) => b.tags),
        start: this.firstSeq % BLOCK,
        count,
        mask: MASK[q.stream],
        re: q.filter,
        offset,
        limit,
      },
      q.budgetMs,
    );
    // The scan may run in another realm: copy into an array of this one.
    const lines = Array.from(result.lines);
    return { lines, totalLines: result.total, hasMore: offset + lines.length < result.total };
  }
}

/** The largest index ≤ `at` (and > `min`) that does not split a UTF-8 sequence. */
function utf8Boundary(buf: Buffer, at: number, min: number): number {
  let cut = Math.min(at, buf.length);
  while (cut > min + 1 && cut < buf.length && ((buf[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}
