import { describe, expect, it } from 'vitest';
import { LineSplitter, OutputPager, type PageSource } from '../../../../renderer/src/lib/outputPager';

/** A server-side line store of `n` lines, recording the queries it gets. */
function source(n: number) {
  const lines = Array.from({ length: n }, (_, i) => `line ${i}`);
  const queries: { offset: number; limit: number }[] = [];
  const src: PageSource = {
    count: () => {
      queries.push({ offset: 0, limit: 0 });
      return Promise.resolve({ ok: true, value: lines.length });
    },
    page: (offset, limit) => {
      queries.push({ offset, limit });
      return Promise.resolve({
        ok: true,
        value: lines.slice(offset, offset + limit).map((text) => ({ text })),
      });
    },
  };
  return { lines, queries, src };
}

describe('OutputPager', () => {
  it('counts with limit 0, then fetches only the pages around the tail', async () => {
    const { queries, src } = source(1_000_000);
    const pager = new OutputPager(src, { pageSize: 500, maxPages: 4 });
    await pager.reset();
    expect(queries).toEqual([{ offset: 0, limit: 0 }]);
    expect(pager.total).toBe(1_000_000);
    await pager.ensureRange(999_970, 1_000_000);
    expect(queries.slice(1)).toEqual([{ offset: 999_500, limit: 500 }]);
    expect(pager.lineAt(999_999)).toBe('line 999999');
    expect(pager.lineAt(0)).toBeUndefined();
  });

  it('does not refetch cached pages and keeps at most maxPages', async () => {
    const { queries, src } = source(10_000);
    const pager = new OutputPager(src, { pageSize: 100, maxPages: 3 });
    await pager.reset();
    for (const start of [0, 100, 200, 300, 400]) await pager.ensureRange(start, start + 50);
    expect(pager.cachedPages).toBe(3);
    const before = queries.length;
    await pager.ensureRange(400, 450); // still cached
    expect(queries.length).toBe(before);
    await pager.ensureRange(0, 50); // evicted: fetched again
    expect(queries.length).toBe(before + 1);
    expect(pager.lineAt(10)).toBe('line 10');
  });

  it('appends live lines to the cached tail page and counts them', async () => {
    const { src } = source(150);
    const pager = new OutputPager(src, { pageSize: 100 });
    await pager.reset();
    await pager.ensureRange(100, 150);
    pager.append([{ text: 'new 1' }, { text: 'new 2' }]);
    expect(pager.total).toBe(152);
    expect(pager.lineAt(150)).toBe('new 1');
    expect(pager.lineAt(151)).toBe('new 2');
  });

  it('drops answers of an older generation (filter changed meanwhile)', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let filter = 'a';
    const src: PageSource = {
      count: () => Promise.resolve({ ok: true, value: 10 }),
      page: async (offset, limit) => {
        const f = filter;
        if (f === 'a') await gate;
        return {
          ok: true,
          value: Array.from({ length: limit }, (_, i) => ({ text: `${f}${offset + i}` })).slice(
            0,
            10 - offset,
          ),
        };
      },
    };
    const pager = new OutputPager(src, { pageSize: 10 });
    await pager.reset();
    const stale = pager.ensureRange(0, 10);
    filter = 'b';
    await pager.reset();
    await pager.ensureRange(0, 10);
    release();
    await stale;
    expect(pager.lineAt(0)).toBe('b0');
  });

  it('keeps the numbers the server gives, and refetches live rows that came without one', async () => {
    const stored = Array.from({ length: 12 }, (_, i) => ({ text: `hit ${i}`, number: 100 + 10 * i }));
    let visible = 10;
    const queries: number[] = [];
    const src: PageSource = {
      count: () => Promise.resolve({ ok: true, value: visible }),
      page: (offset, limit) => {
        queries.push(offset);
        return Promise.resolve({ ok: true, value: stored.slice(offset, Math.min(visible, offset + limit)) });
      },
    };
    const pager = new OutputPager(src, { pageSize: 20 });
    await pager.reset();
    await pager.ensureRange(0, 10);
    expect(pager.rowAt(9)).toEqual({ text: 'hit 9', number: 190 });
    // A filtered live line: the tail cannot know its original number, the server can.
    pager.append([{ text: 'hit 10', stream: 'stdout' }]);
    expect(pager.rowAt(10)?.number).toBeUndefined();
    visible = 11;
    await pager.ensureRange(0, 11);
    expect(queries).toEqual([0, 0]);
    expect(pager.rowAt(10)).toEqual({ text: 'hit 10', number: 200 });
    await pager.ensureRange(0, 11);
    expect(queries).toHaveLength(2); // numbered now: no more refetches
  });

  it('reports fetch errors', async () => {
    const pager = new OutputPager({
      count: () => Promise.resolve({ ok: false, message: 'The server rejected the query: bad pattern.' }),
      page: () => Promise.resolve({ ok: true, value: [] }),
    });
    await pager.reset();
    expect(pager.counted).toBe(false);
    expect(pager.error).toContain('bad pattern');
  });
});

describe('LineSplitter', () => {
  it('holds partial lines per stream until their newline arrives', () => {
    const s = new LineSplitter();
    expect(s.push('stdout', 'a\nb')).toEqual(['a']);
    expect(s.push('stderr', 'x\r\n')).toEqual(['x']);
    expect(s.push('stdout', 'c\n')).toEqual(['bc']);
    expect(s.push('stdout', 'tail')).toEqual([]);
    expect(s.flush()).toEqual(['tail']);
  });
});
