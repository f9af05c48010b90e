import { describe, expect, it } from 'vitest';
import { LineSegment } from '../../../../server/query/lineSegment';
import { LineStore } from '../../../../server/lineStore';

const limits = { maxLines: 1_000_000, maxBytes: 64 * 1024 * 1024, maxLineBytes: 64 * 1024 };

describe('LineSegment after a full one', () => {
  it('starts at the capacity the full segment grew to, and still holds exactly what it is given', () => {
    const line = Buffer.from('0123456789');
    const first = new LineSegment(0, 0, 0, 4096, 300);
    while (first.fits(line.length)) first.push(line, 0, line.length, 0, true);
    const next = new LineSegment(first.count, 1, line.length, 4096, 300, first);
    expect(next.capacityBytes).toBe(first.capacityBytes);
    next.push(line, 2, 5, 1, true);
    expect(next.count).toBe(1);
    expect(next.line(0)).toBe('234');
    expect(next.tag(0)).toBe(1);
  });

  it('never starts beyond its own limits, whatever the segment before grew to', () => {
    const big = new LineSegment(0, 0, 100_000);
    big.push(Buffer.alloc(100_000, 0x61), 0, 100_000, 0, true);
    const next = new LineSegment(1, 1, 10, 4096, 64, big);
    expect(next.capacityBytes).toBeLessThanOrEqual(4096 + 64 * 5);
  });

  it('keeps every line of a store that fills segment after segment', () => {
    const store = new LineStore(limits, { segmentBytes: 1000, segmentLines: 50 });
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
    const bytes = Buffer.from(`${text.join('\n')}\n`);
    for (let at = 0; at < bytes.length; at += 777) store.append('stdout', bytes.subarray(at, at + 777));
    expect(store.lineCount).toBe(2000);
    expect(store.read('stdout', 0, 2000).lines).toEqual(text);
  });
});
