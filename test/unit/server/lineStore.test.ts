import { describe, expect, it } from 'vitest';
import { LineStore } from '../../../server/lineStore';
import { RegexTimeoutError } from '../../../server/regexFilter';

const limits = { maxLines: 1000, maxBytes: 1_000_000, maxLineBytes: 1024 };
const all = (store: LineStore, stream: 'stdout' | 'stderr' | 'both' = 'both') =>
  store.query({ stream, filter: null, offset: 0, limit: 10_000, budgetMs: 1000 });

describe('LineStore', () => {
  it('splits on \\n, strips a trailing \\r and keeps a partial line until newline or flush', () => {
    const store = new LineStore(limits);
    expect(store.append('stdout', Buffer.from('one\r\ntw'))).toEqual(['one']);
    expect(all(store).lines).toEqual(['one']);
    expect(store.append('stdout', Buffer.from('o\n\nthree'))).toEqual(['two', '']);
    expect(store.flush('stdout')).toEqual(['three']);
    expect(store.flush('stdout')).toEqual([]);
    expect(all(store).lines).toEqual(['one', 'two', '', 'three']);
  });

  it('keeps arrival order across streams and separates them on request', () => {
    const store = new LineStore(limits);
    store.append('stdout', Buffer.from('o1\n'));
    store.append('stderr', Buffer.from('e1\n'));
    store.append('stdout', Buffer.from('o2\n'));
    expect(all(store).lines).toEqual(['o1', 'e1', 'o2']);
    expect(all(store, 'stdout').lines).toEqual(['o1', 'o2']);
    expect(all(store, 'stderr')).toEqual({ lines: ['e1'], totalLines: 1, hasMore: false });
  });

  it('keeps partial lines of the two streams apart', () => {
    const store = new LineStore(limits);
    store.append('stdout', Buffer.from('out-'));
    store.append('stderr', Buffer.from('err-'));
    store.append('stdout', Buffer.from('end\n'));
    store.append('stderr', Buffer.from('end\n'));
    expect(all(store).lines).toEqual(['out-end', 'err-end']);
  });

  it('evicts the oldest lines beyond max_lines and beyond max_bytes', () => {
    const byLines = new LineStore({ maxLines: 3, maxBytes: 1_000_000, maxLineBytes: 100 });
    byLines.append('stdout', Buffer.from('a\nb\nc\nd\ne\n'));
    expect(all(byLines).lines).toEqual(['c', 'd', 'e']);
    expect(byLines.evicted).toBe(2);
    const byBytes = new LineStore({ maxLines: 100, maxBytes: 10, maxLineBytes: 100 });
    byBytes.append('stdout', Buffer.from('1234\n5678\nabcd\n'));
    expect(all(byBytes).lines).toEqual(['5678', 'abcd']);
    expect(byBytes.byteCount).toBe(8);
  });

  it('evicts across block boundaries (more than 4096 lines)', () => {
    const store = new LineStore({ maxLines: 5000, maxBytes: 10_000_000, maxLineBytes: 100 });
    const text = Array.from({ length: 12_345 }, (_v, i) => `L${i}\n`).join('');
    store.append('stdout', Buffer.from(text));
    const r = store.query({ stream: 'stdout', filter: null, offset: 0, limit: 10_000, budgetMs: 1000 });
    expect(r.totalLines).toBe(5000);
    expect(r.lines[0]).toBe('L7345');
    expect(r.lines.at(-1)).toBe('L12344');
    const tail = store.query({ stream: 'both', filter: /^L1234\d$/, offset: 0, limit: 100, budgetMs: 1000 });
    expect(tail.lines).toEqual(['L12340', 'L12341', 'L12342', 'L12343', 'L12344']);
  });

  it('splits a line longer than max_line_bytes without breaking UTF-8', () => {
    const store = new LineStore({ maxLines: 100, maxBytes: 10_000, maxLineBytes: 16 });
    store.append('stdout', Buffer.from(`${'x'.repeat(15)}éé\n`));
    const lines = all(store).lines;
    expect(lines.join('')).toBe(`${'x'.repeat(15)}éé`);
    expect(lines.every((l) => Buffer.byteLength(l) <= 16 && !l.includes('\uFFFD'))).toBe(true);
    // A partial line that grows past the limit is split before its newline arrives.
    const partial = new LineStore({ maxLines: 100, maxBytes: 10_000, maxLineBytes: 16 });
    partial.append('stderr', Buffer.from('y'.repeat(40)));
    expect(all(partial).lines).toEqual(['y'.repeat(16), 'y'.repeat(16)]);
  });

  it('filters with a regex, counts matches and pages with offset/limit/has_more', () => {
    const store = new LineStore(limits);
    store.append(
      'stdout',
      Buffer.from(Array.from({ length: 50 }, (_v, i) => `${i % 5 === 0 ? 'ERROR' : 'info'} ${i}\n`).join('')),
    );
    const page = store.query({ stream: 'both', filter: /^ERROR/, offset: 2, limit: 3, budgetMs: 1000 });
    expect(page).toEqual({ lines: ['ERROR 10', 'ERROR 15', 'ERROR 20'], totalLines: 10, hasMore: true });
    const last = store.query({ stream: 'both', filter: /^ERROR/, offset: 8, limit: 3, budgetMs: 1000 });
    expect(last).toEqual({ lines: ['ERROR 40', 'ERROR 45'], totalLines: 10, hasMore: false });
    const count = store.query({ stream: 'stdout', filter: /^info/, offset: 0, limit: 0, budgetMs: 1000 });
    expect(count).toEqual({ lines: [], totalLines: 40, hasMore: true });
  });

  it('is non-destructive: the same query twice gives the same answer', () => {
    const store = new LineStore(limits);
    store.append('stdout', Buffer.from('a\nb\n'));
    expect(all(store)).toEqual(all(store));
  });

  it('interrupts a catastrophic regex within its time budget', () => {
    const store = new LineStore(limits);
    store.append('stdout', Buffer.from(`${'a'.repeat(40)}b\n`));
    const started = Date.now();
    expect(() =>
      store.query({ stream: 'both', filter: /^(a+)+$/, offset: 0, limit: 10, budgetMs: 100 }),
    ).toThrow(RegexTimeoutError);
    expect(Date.now() - started).toBeLessThan(2000);
    // The store (and the shared vm context) still work afterwards.
    expect(
      store.query({ stream: 'both', filter: /b$/, offset: 0, limit: 10, budgetMs: 100 }).totalLines,
    ).toBe(1);
  });

  it('reads lines one by one per stream with a cursor that survives eviction', () => {
    const store = new LineStore({ maxLines: 3, maxBytes: 1000, maxLineBytes: 100 });
    store.append('stdout', Buffer.from('o1\n'));
    store.append('stderr', Buffer.from('e1\n'));
    let c = store.nextLine('stdout', 0);
    expect(c?.line).toBe('o1');
    expect(store.nextLine('stdout', c?.next ?? 0)).toBeNull();
    store.append('stdout', Buffer.from('o2\no3\no4\n'));
    c = store.nextLine('stdout', c?.next ?? 0);
    expect(c?.line).toBe('o2');
    expect(store.nextLine('stderr', 0)).toBeNull(); // e1 was evicted
  });
});
