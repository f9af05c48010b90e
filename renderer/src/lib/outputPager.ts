/**
 * Paged, bounded access to an agent's (possibly huge) output for the virtualized viewer. It
 * counts the matching lines with a `limit: 0` query, then fetches fixed-size pages by
 * `offset`/`limit` only around what is on screen, and keeps at most `maxPages` of them (least
 * recently used ones are dropped). Live lines are appended to the cached tail page.
 */

import type { LineStreamName } from '../../../shared/domain/numberedOutput';

/**
 * One line of output. `number` is its original line number when the server reported it (see
 * `shared/domain/numberedOutput.ts`); `stream` its stream when known (paged `both` queries of a
 * numbering server, and every live-tail line).
 */
export interface OutputRow {
  readonly text: string;
  readonly number?: number;
  readonly stream?: LineStreamName;
}

/** What fetching gave: a value or an operator-facing message. */
export type FetchResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** How the pager reaches the server; the output store binds it to `queryOutput`. */
export interface PageSource {
  /** Number of matching lines (a `limit: 0` query). */
  count(): Promise<FetchResult<number>>;
  /** Matching lines `offset … offset + limit - 1`, oldest first. */
  page(offset: number, limit: number): Promise<FetchResult<OutputRow[]>>;
}

export interface OutputPagerOptions {
  /** Lines per page (≤ 10 000, the protocol's maximum `limit`). Default 500. */
  readonly pageSize?: number;
  /** Pages kept in memory. Default 40 (20 000 lines with the default page size). */
  readonly maxPages?: number;
  /** Called after anything visible changed (lines arrived, count changed, error). */
  readonly onChange?: () => void;
}

interface Page {
  lines: OutputRow[];
  /** Live rows without the number the server would give them: refetched when looked at. */
  unnumbered: boolean;
  /** `total` when it was fetched: an incomplete page is refetched only once more lines exist. */
  fetchedAtTotal: number;
}

export class OutputPager {
  readonly pageSize: number;
  readonly maxPages: number;
  /** Matching lines known to exist. */
  total = 0;
  /** True once the first count answered. */
  counted = false;
  /** The last fetch error, or null. Cleared by the next successful fetch. */
  error: string | null = null;
  private readonly pages = new Map<number, Page>();
  private readonly inflight = new Set<number>();
  private generation = 0;
  private countPromise: Promise<void> | null = null;
  private readonly onChange: () => void;

  constructor(
    private readonly source: PageSource,
    options: OutputPagerOptions = {},
  ) {
    this.pageSize = Math.min(10_000, Math.max(1, options.pageSize ?? 500));
    this.maxPages = Math.max(2, options.maxPages ?? 40);
    this.onChange = options.onChange ?? (() => undefined);
  }

  /** Pages currently cached (for tests and diagnostics). */
  get cachedPages(): number {
    return this.pages.size;
  }

  /** Fetches in flight. */
  get pending(): number {
    return this.inflight.size + (this.countPromise ? 1 : 0);
  }

  /** Forgets everything and counts again (new filter, new stream, or a backfill). */
  reset(): Promise<void> {
    this.generation++;
    this.pages.clear();
    this.inflight.clear();
    this.total = 0;
    this.counted = false;
    this.error = null;
    const generation = this.generation;
    const promise = this.source.count().then((result) => {
      if (generation !== this.generation) return;
      this.countPromise = null;
      if (result.ok) {
        this.total = Math.max(this.total, result.value);
        this.counted = true;
      } else {
        this.error = result.message;
      }
      this.onChange();
    });
    this.countPromise = promise;
    this.onChange();
    return promise;
  }

  /** True once a fetched page carried line numbers: live rows without one are then refetched. */
  numbering = false;

  /** The row at `index`, or undefined while its page is not loaded. */
  rowAt(index: number): OutputRow | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.lines[index % this.pageSize];
  }

  /** The text of the line at `index`, or undefined while its page is not loaded. */
  lineAt(index: number): string | undefined {
    return this.rowAt(index)?.text;
  }

  /**
   * Makes sure the lines `start … end - 1` are loaded or loading, and marks their pages as
   * recently used. Returns the promise of the fetches it started (tests await it).
   */
  ensureRange(start: number, end: number): Promise<void> {
    if (!this.counted) return Promise.resolve();
    const last = Math.min(end, this.total) - 1;
    if (last < start) return Promise.resolve();
    const firstPage = Math.floor(Math.max(0, start) / this.pageSize);
    const lastPage = Math.floor(last / this.pageSize);
    const started: Promise<void>[] = [];
    for (let p = firstPage; p <= lastPage; p++) {
      const page = this.pages.get(p);
      if (page) {
        this.pages.delete(p);
        this.pages.set(p, page); // most recently used goes last
        const short = page.lines.length < this.expectedLength(p) && page.fetchedAtTotal < this.total;
        if ((short || page.unnumbered) && !this.inflight.has(p)) {
          started.push(this.fetchPage(p));
        }
      } else if (!this.inflight.has(p)) {
        started.push(this.fetchPage(p));
      }
    }
    this.evict(firstPage, lastPage);
    return Promise.all(started).then(() => undefined);
  }

  /**
   * Appends live lines (already filtered by stream and pattern) at the end. A row without a
   * number, while the server numbers lines, marks its page for a refetch (that brings it).
   */
  append(lines: readonly OutputRow[]): void {
    if (lines.length === 0) return;
    for (const line of lines) {
      const index = this.total;
      const p = Math.floor(index / this.pageSize);
      const within = index % this.pageSize;
      const page = this.pages.get(p);
      const unnumbered = this.numbering && line.number === undefined;
      if (page && page.lines.length === within) {
        page.lines.push(line);
        page.fetchedAtTotal = index + 1;
        page.unnumbered ||= unnumbered;
      } else if (page) {
        this.pages.delete(p); // a gap: refetch it when it is looked at
      } else if (within === 0 && !this.inflight.has(p)) {
        this.pages.set(p, { lines: [line], fetchedAtTotal: index + 1, unnumbered });
      }
      this.total++;
    }
    this.evict(Math.floor((this.total - 1) / this.pageSize), Math.floor((this.total - 1) / this.pageSize));
    this.onChange();
  }

  private expectedLength(p: number): number {
    return Math.max(0, Math.min(this.pageSize, this.total - p * this.pageSize));
  }

  private fetchPage(p: number): Promise<void> {
    const generation = this.generation;
    const totalAtStart = this.total;
    this.inflight.add(p);
    return this.source.page(p * this.pageSize, this.pageSize).then((result) => {
      if (generation !== this.generation) return;
      this.inflight.delete(p);
      if (result.ok) {
        this.error = null;
        const existing = this.pages.get(p);
        if (result.value[0]?.number !== undefined) this.numbering = true;
        // Live lines may have reached this page while it was loading: keep the longer version
        // (a fetched one of the same length replaces live rows that lacked their numbers).
        if (!existing || existing.lines.length <= result.value.length) {
          this.pages.set(p, {
            lines: result.value,
            fetchedAtTotal: Math.max(totalAtStart, p * this.pageSize + result.value.length),
            unnumbered: false,
          });
        }
        // The server may have more than we counted (lines arrived meanwhile).
        this.total = Math.max(this.total, p * this.pageSize + result.value.length);
      } else {
        this.error = result.message;
      }
      this.evict(p, p);
      this.onChange();
    });
  }

  /** Drops least recently used pages beyond `maxPages`, never the ones in `keepFrom…keepTo`. */
  private evict(keepFrom: number, keepTo: number): void {
    if (this.pages.size <= this.maxPages) return;
    for (const p of this.pages.keys()) {
      if (this.pages.size <= this.maxPages) break;
      if (p >= keepFrom && p <= keepTo) continue;
      this.pages.delete(p);
    }
  }
}

/**
 * Splits decoded chunks into lines, holding a partial last line per stream until its newline
 * arrives. `flush` returns held partial lines (e.g. when the tail is closed).
 */
export class LineSplitter {
  private readonly partial = new Map<string, string>();

  /** Complete lines in `text` (without their newline), prefixed by what `key` held. */
  push(key: string, text: string): string[] {
    const held = this.partial.get(key) ?? '';
    const parts = (held + text).split('\n');
    const rest = parts.pop() ?? '';
    if (rest === '') this.partial.delete(key);
    else this.partial.set(key, rest);
    return parts.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  /** Held partial lines, in key order, and forgets them. */
  flush(): string[] {
    const lines = [...this.partial.values()];
    this.partial.clear();
    return lines;
  }
}
