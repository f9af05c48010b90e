import { describe, expect, it } from 'vitest';
import { LineStore, STREAM_MASK, type StreamSelector } from '../../../server/lineStore';
import { scanSegments } from '../../../server/query/scanSegments';

/** A regex query's numbers, computed as the output query handler does (docs/PROTOCOL.md §4.4). */
function numbered(store: LineStore, stream: StreamSelector, re: RegExp) {
  const snapshot = store.snapshot();
  const found = scanSegments({
    segments: snapshot.views,
    mask: STREAM_MASK[stream],
    source: re.source,
    flags: re.flags,
    offset: 0,
    limit: 10_000,
    literal: null,
  });
  return { lines: snapshot.lines(found.hits), ...snapshot.numbers(found.hits, stream) };
}

/** Appends `n` lines `<prefix><i>` alternating stdout (even i) and stderr (odd i), from `from`. */
function fill(store: LineStore, from: number, n: number): void {
  for (let i = from; i < from + n; i++) {
    store.append(i % 2 === 0 ? 'stdout' : 'stderr', Buffer.from(`line ${i}\n`));
  }
}

describe('original line numbers of a query', () => {
  it('numbers filtered lines by their place among all lines (both) or their stream', () => {
    const store = new LineStore({ maxLines: 1000, maxBytes: 1_000_000, maxLineBytes: 1024 });
    fill(store, 0, 10);
    const both = numbered(store, 'both', /line [37]$/);
    expect(both.lines).toEqual(['line 3', 'line 7']);
    expect(both.numbers).toEqual([4, 8]);
    expect(both.streams).toEqual(['stderr', 'stderr']);
    // stderr holds lines 1, 3, 5, 7, 9: "line 3" is its 2nd line, "line 7" its 4th.
    expect(numbered(store, 'stderr', /line [37]$/).numbers).toEqual([2, 4]);
    expect(numbered(store, 'stdout', /line [48]$/).numbers).toEqual([3, 5]);
  });

  it('keeps the numbers as older lines are dropped, across segments', () => {
    // Small segments so drops free whole segments and cut into the first one.
    const store = new LineStore(
      { maxLines: 25, maxBytes: 1_000_000, maxLineBytes: 1024 },
      { segmentLines: 7 },
    );
    fill(store, 0, 30); // 5 dropped already
    const before = numbered(store, 'both', /line 2[0-4]$/);
    expect(before.numbers).toEqual([21, 22, 23, 24, 25]);
    const stderrBefore = numbered(store, 'stderr', /line 2[0-4]$/);
    expect(stderrBefore.numbers).toEqual([11, 12]);
    fill(store, 30, 13); // 43 lines stored in all: the oldest 18 are dropped
    expect(store.dropped('both')).toBe(18);
    expect(numbered(store, 'both', /line 2[0-4]$/)).toEqual(before);
    expect(numbered(store, 'stderr', /line 2[0-4]$/).numbers).toEqual(stderrBefore.numbers);
    expect(numbered(store, 'stdout', /line 4[02]$/).numbers).toEqual([21, 22]);
    expect(numbered(store, 'both', /line 42$/).numbers).toEqual([43]);
  });

  it("reports each line's stream in an unfiltered read of both", () => {
    const store = new LineStore({ maxLines: 1000, maxBytes: 1_000_000, maxLineBytes: 1024 });
    fill(store, 0, 3);
    expect(store.streamsAt(1, 10)).toEqual(['stderr', 'stdout']);
  });
});
