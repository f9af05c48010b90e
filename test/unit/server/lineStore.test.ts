import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineStore, STREAM_MASK } from '../../../server/lineStore';
import type { LineStream, StreamSelector } from '../../../server/lineStore';
import { SEGMENT_BYTES, SEGMENT_LINES } from '../../../server/query/lineSegment';
import { requiredLiteral } from '../../../server/query/requiredLiteral';
import { scanSegments } from '../../../server/query/scanSegments';

const limits = { maxLines: 1000, maxBytes: 1_000_000, maxLineBytes: 1024 };
const all = (store: LineStore, stream: StreamSelector = 'both') => store.read(stream, 0, 10_000);

/**
 * A regex query run in this thread, as a query worker runs it: with the pattern's required
 * literal (when it has one) and, to check that the byte search changes nothing, without.
 */
function scan(store: LineStore, stream: StreamSelector, re: RegExp, offset = 0, limit = 10_000) {
  const snapshot = store.snapshot();
  const job = {
    segments: snapshot.views,
    mask: STREAM_MASK[stream],
    source: re.source,
    flags: re.flags,
    offset,
    limit,
  };
  const found = scanSegments({ ...job, literal: requiredLiteral(re.source, re.flags) });
  const plain = scanSegments({ ...job, literal: null });
  expect(found).toEqual(plain);
  return { lines: snapshot.lines(found.hits), totalLines: found.total };
}

describe('LineStore', () => {
  it('splits on \\n, strips a trailing \\r and keeps a partial line until newline or flush', () => {
    const store = new LineStore(limits);
    expect(store.append('stdout', Buffer.from('one\r\ntw'), true)).toEqual(['one']);
    expect(all(store).lines).toEqual(['one']);
    expect(store.append('stdout', Buffer.from('o\n\nthree'), true)).toEqual(['two', '']);
    expect(store.flush('stdout')).toEqual(['three']);
    expect(store.flush('stdout')).toEqual([]);
    expect(all(store).lines).toEqual(['one', 'two', '', 'three']);
  });

  it('returns the finished lines only when asked to (decoding costs)', () => {
    const store = new LineStore(limits);
    expect(store.append('stdout', Buffer.from('a\nb\n'))).toEqual([]);
    expect(all(store).lines).toEqual(['a', 'b']);
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

  it('evicts the oldest lines beyond max_lines and beyond max_bytes, and counts them per stream', () => {
    const byLines = new LineStore({ maxLines: 3, maxBytes: 1_000_000, maxLineBytes: 100 });
    byLines.append('stdout', Buffer.from('a\nb\nc\n'));
    byLines.append('stderr', Buffer.from('d\ne\n'));
    expect(all(byLines).lines).toEqual(['c', 'd', 'e']);
    expect(byLines.evicted).toBe(2);
    expect(byLines.dropped('stdout')).toBe(2);
    expect(byLines.dropped('stderr')).toBe(0);
    expect(byLines.dropped('both')).toBe(2);
    const byBytes = new LineStore({ maxLines: 100, maxBytes: 10, maxLineBytes: 100 });
    byBytes.append('stdout', Buffer.from('1234\n5678\nabcd\n'));
    expect(all(byBytes).lines).toEqual(['5678', 'abcd']);
    expect(byBytes.byteCount).toBe(8);
  });

  it('evicts across segment boundaries and pages both streams from the oldest kept line', () => {
    const store = new LineStore({ maxLines: 100_000, maxBytes: 100_000_000, maxLineBytes: 100 });
    const n = SEGMENT_LINES * 2 + 1234;
    const text = Array.from({ length: n }, (_v, i) => `L${i}\n`).join('');
    store.append('stdout', Buffer.from(text));
    const r = store.read('stdout', 0, 10_000);
    expect(r.totalLines).toBe(100_000);
    expect(r.lines[0]).toBe(`L${n - 100_000}`);
    const tail = store.read('both', 99_998, 10);
    expect(tail).toEqual({ lines: [`L${n - 2}`, `L${n - 1}`], totalLines: 100_000, hasMore: false });
    const mid = store.read('stdout', 70_000, 3);
    expect(mid.lines).toEqual([0, 1, 2].map((k) => `L${n - 100_000 + 70_000 + k}`));
    expect(scan(store, 'both', new RegExp(`^L${n - 1}$`)).lines).toEqual([`L${n - 1}`]);
  });

  it('starts a new segment at 1 MiB and keeps lines of any size up to max_line_bytes', () => {
    const store = new LineStore({ maxLines: 10_000, maxBytes: 100_000_000, maxLineBytes: 2 * SEGMENT_BYTES });
    const big = 'x'.repeat(SEGMENT_BYTES + 10);
    store.append('stdout', Buffer.from(`small\n${big}\nafter\n`));
    expect(all(store).lines).toEqual(['small', big, 'after']);
    expect(store.snapshot().views.length).toBeGreaterThanOrEqual(2);
    expect(scan(store, 'both', /^x+$/).totalLines).toBe(1);
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

  it('a long line whose \\r and \\n arrive in different chunks is stored as in one chunk, without an empty line', () => {
    const max = 16;
    const feed = (chunks: string[]): string[] => {
      const store = new LineStore({ maxLines: 100, maxBytes: 10_000, maxLineBytes: max });
      for (const c of chunks) store.append('stdout', Buffer.from(c));
      store.flush('stdout');
      return all(store).lines;
    };
    for (const length of [max, 2 * max, max + 5]) {
      const text = 'x'.repeat(length);
      const whole = feed([`${text}\r\nnext\n`]);
      expect(feed([`${text}\r`, '\nnext\n'])).toEqual(whole);
      expect(feed([text, '\r', '\n', 'next\n'])).toEqual(whole);
      expect(whole.at(-2)).not.toBe('');
    }
    // A \r that is not followed by \n is content, and counts once more bytes come.
    expect(feed(['x'.repeat(max) + '\r', 'y\n'])).toEqual(['x'.repeat(max), '\ry']);
    // At the end of the stream, a trailing \r is stripped as before.
    expect(feed(['x'.repeat(max) + '\r'])).toEqual(['x'.repeat(max)]);
  });

  it('stores non-ASCII text as UTF-8 and gives it back the same, read or scanned', () => {
    const store = new LineStore(limits);
    store.append('stdout', Buffer.from('plain\n'));
    store.append('stderr', Buffer.from('grüße 🌍\nweiter\n'));
    expect(all(store).lines).toEqual(['plain', 'grüße 🌍', 'weiter']);
    expect(scan(store, 'both', /ü|🌍/u).lines).toEqual(['grüße 🌍']);
    expect(scan(store, 'stdout', /^plain$/).lines).toEqual(['plain']);
  });

  it('filters with a regex, counts matches and pages with offset/limit', () => {
    const store = new LineStore(limits);
    store.append(
      'stdout',
      Buffer.from(Array.from({ length: 50 }, (_v, i) => `${i % 5 === 0 ? 'ERROR' : 'info'} ${i}\n`).join('')),
    );
    expect(scan(store, 'both', /^ERROR/, 2, 3)).toEqual({
      lines: ['ERROR 10', 'ERROR 15', 'ERROR 20'],
      totalLines: 10,
    });
    expect(scan(store, 'both', /^ERROR/, 8, 3)).toEqual({ lines: ['ERROR 40', 'ERROR 45'], totalLines: 10 });
    expect(scan(store, 'stdout', /^info/, 0, 0)).toEqual({ lines: [], totalLines: 40 });
  });

  it('limit 0 returns only the count', () => {
    const store = new LineStore(limits);
    store.append('stdout', Buffer.from('a\nb\n'));
    expect(store.read('stdout', 0, 0)).toEqual({ lines: [], totalLines: 2, hasMore: true });
    expect(store.read('stderr', 0, 0)).toEqual({ lines: [], totalLines: 0, hasMore: false });
  });

  it('is non-destructive: the same read twice gives the same answer', () => {
    const store = new LineStore(limits);
    store.append('stdout', Buffer.from('a\nb\n'));
    expect(all(store)).toEqual(all(store));
  });

  it('a snapshot keeps answering for the lines it saw while the store grows and evicts', () => {
    const store = new LineStore({ maxLines: 50, maxBytes: 1_000_000, maxLineBytes: 100 });
    store.append('stdout', Buffer.from(Array.from({ length: 40 }, (_v, i) => `old ${i}\n`).join('')));
    const snapshot = store.snapshot();
    // Growth copies into new buffers and eviction lets segments go; the snapshot is unaffected.
    store.append('stdout', Buffer.from(Array.from({ length: 5000 }, (_v, i) => `new ${i}\n`).join('')));
    store.trim();
    const found = scanSegments({
      segments: snapshot.views,
      mask: 3,
      source: '^old (0|39)$',
      flags: '',
      literal: 'old ',
      offset: 0,
      limit: 10,
    });
    expect(snapshot.lines(found.hits)).toEqual(['old 0', 'old 39']);
    expect(all(store).lines[0]).toBe('new 4950');
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

  it('trim gives back unused capacity and the store keeps appending after it', () => {
    const store = new LineStore(limits);
    store.append('stdout', Buffer.from('a\n'));
    store.trim();
    store.append('stdout', Buffer.from(`${'b'.repeat(900)}\nc\n`));
    expect(all(store).lines).toEqual(['a', 'b'.repeat(900), 'c']);
  });

  it('reads and scans like a plain array of lines, whatever the chunks, streams and bounds', () => {
    const chunk = fc.record({
      stream: fc.constantFrom<LineStream>('stdout', 'stderr'),
      // Fragments that put "ERR" across two lines too (a byte-search hit the regex must reject).
      lines: fc.array(
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'é', 'ERR x', 'xER', 'R x', 'R')),
        {
          maxLength: 40,
        },
      ),
    });
    fc.assert(
      fc.property(
        fc.array(chunk, { maxLength: 60 }),
        fc.integer({ min: 1, max: 400 }),
        fc.nat(450),
        fc.nat(50),
        fc.constantFrom<StreamSelector>('stdout', 'stderr', 'both'),
        fc.integer({ min: 1, max: 300 }),
        (chunks, maxLines, offset, limit, stream, segmentLines) => {
          // Small segments, so that reads and scans cross segment (and checkpoint) boundaries.
          const store = new LineStore(
            { maxLines, maxBytes: 1_000_000, maxLineBytes: 1024 },
            { segmentLines, segmentBytes: segmentLines * 8 },
          );
          const model: { stream: LineStream; text: string }[] = [];
          for (const c of chunks) {
            const lines = c.lines.map((l) => l.replace(/[\r\n]/g, ''));
            if (lines.length === 0) continue;
            store.append(c.stream, Buffer.from(lines.map((l) => `${l}\n`).join('')));
            for (const text of lines) model.push({ stream: c.stream, text });
          }
          const kept = model.slice(Math.max(0, model.length - maxLines));
          const dropped = model.length - kept.length;
          const pick = kept.filter((l) => stream === 'both' || l.stream === stream).map((l) => l.text);
          const page = store.read(stream, offset, limit);
          expect(page.lines).toEqual(pick.slice(offset, offset + limit));
          expect(page.totalLines).toBe(pick.length);
          expect(page.hasMore).toBe(offset + page.lines.length < pick.length);
          for (const re of [/R|é/, /ERR/, /R x$/]) {
            const matching = pick.filter((l) => re.test(l));
            const found = scan(store, stream, re, offset, limit);
            expect(found.lines).toEqual(matching.slice(offset, offset + limit));
            expect(found.totalLines).toBe(matching.length);
          }
          expect(store.dropped('both')).toBe(dropped);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stores and journals the same lines whether output comes in runs or line by line', () => {
    // Runs of plain lines take the batch path (LineSegment.pushLines, one onLines call); fed as
    // its first byte and then the rest, every line is a partial one first and takes the
    // line-by-line path. Both must agree on every line (\r stripped, long lines split, UTF-8
    // kept), stream, number, eviction and the bytes the journal gets.
    const piece = fc.oneof(
      fc.constantFrom('\n', '\r\n', '\r', 'é', '🌍', 'ERR', ' ', 'x'.repeat(20)),
      fc.string({ maxLength: 6 }),
    );
    const part = fc.record({
      stream: fc.constantFrom<LineStream>('stdout', 'stderr'),
      text: fc.array(piece, { maxLength: 30 }).map((p) => p.join('')),
    });
    const journalOf = (store: (options: object) => LineStore, batch: boolean) => {
      const out: Buffer[] = [];
      const mark = (tag: number) => Buffer.from(tag === 1 ? 'e' : 'o');
      const created = store({
        onLine: (tag: number, src: Uint8Array, a: number, b: number) => {
          out.push(mark(tag), Buffer.from(src.subarray(a, b)), Buffer.from('\n'));
        },
        ...(batch
          ? {
              onLines: (tag: number, src: Uint8Array, a: number, b: number, count: number) => {
                const run = Buffer.from(src.subarray(a, b));
                expect(run.at(-1)).toBe(0x0a);
                expect(run.includes('\r\n')).toBe(false);
                const lines = run.toString('latin1').split('\n').slice(0, -1);
                expect(lines).toHaveLength(count);
                for (const line of lines) out.push(mark(tag), Buffer.from(line, 'latin1'), Buffer.from('\n'));
              },
            }
          : {}),
      });
      return { store: created, journal: () => Buffer.concat(out).toString('utf8') };
    };
    fc.assert(
      fc.property(
        fc.array(part, { maxLength: 25 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 4, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        (parts, maxLines, maxBytes, maxLineBytes, segmentLines, batchHook) => {
          const bounds = { maxLines, maxBytes, maxLineBytes };
          const segments = { segmentLines, segmentBytes: segmentLines * 6 };
          const make = (options: object) => new LineStore(bounds, { ...segments, ...options });
          const runs = journalOf(make, batchHook);
          const lines = journalOf(make, false);
          const addedRuns: string[] = [];
          const addedLines: string[] = [];
          for (const p of parts) {
            const data = Buffer.from(p.text);
            addedRuns.push(...runs.store.append(p.stream, data, true));
            for (let at = 0; at < data.length;) {
              const nl = data.indexOf(0x0a, at);
              const end = nl === -1 ? data.length : nl + 1;
              const cut = at + 1;
              for (const piece of [data.subarray(at, cut), data.subarray(cut, end)]) {
                if (piece.length > 0) addedLines.push(...lines.store.append(p.stream, piece, true));
              }
              at = end;
            }
          }
          for (const s of ['stdout', 'stderr'] as const) {
            addedRuns.push(...runs.store.flush(s));
            addedLines.push(...lines.store.flush(s));
          }
          expect(addedRuns).toEqual(addedLines);
          const a = runs.store;
          const b = lines.store;
          for (const stream of ['stdout', 'stderr', 'both'] as const) {
            expect(a.read(stream, 0, 10_000)).toEqual(b.read(stream, 0, 10_000));
            expect(a.dropped(stream)).toBe(b.dropped(stream));
            expect(scan(a, stream, /R|é/).lines).toEqual(scan(b, stream, /R|é/).lines);
          }
          expect(a.streamsAt(0, 10_000)).toEqual(b.streamsAt(0, 10_000));
          expect([a.lineCount, a.byteCount, a.endSeq]).toEqual([b.lineCount, b.byteCount, b.endSeq]);
          expect(runs.journal()).toBe(lines.journal());
        },
      ),
      { numRuns: 400 },
    );
  });

  it('pages each stream across checkpoints when the lines came in runs of both streams', () => {
    const store = new LineStore({ maxLines: 100_000, maxBytes: 100_000_000, maxLineBytes: 100 });
    const model: { stream: LineStream; text: string }[] = [];
    for (let run = 0; run < 120; run++) {
      const stream: LineStream = run % 3 === 0 ? 'stderr' : 'stdout';
      const texts = Array.from({ length: 1 + ((run * 37) % 90) }, (_v, i) => `${stream} ${run}.${i}`);
      store.append(stream, Buffer.from(texts.map((t) => `${t}\n`).join('')));
      for (const text of texts) model.push({ stream, text });
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      const mine = model.filter((l) => l.stream === stream).map((l) => l.text);
      expect(store.read(stream, 0, 100_000).lines).toEqual(mine);
      for (const offset of [0, 255, 256, 257, 1000, mine.length - 3]) {
        expect(store.read(stream, offset, 5).lines).toEqual(mine.slice(offset, offset + 5));
      }
      const found = scan(store, stream, /\.7$/);
      expect(found.lines).toEqual(mine.filter((t) => t.endsWith('.7')));
    }
  });
});
