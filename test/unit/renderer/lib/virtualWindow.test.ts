import { describe, expect, it } from 'vitest';
import {
  MAX_SCROLL_HEIGHT,
  computeWindow,
  scrollTopForRow,
} from '../../../../renderer/src/lib/virtualWindow';

describe('computeWindow', () => {
  it('renders only the rows in view plus overscan', () => {
    const w = computeWindow({
      count: 10_000,
      rowHeight: 32,
      scrollTop: 3200,
      viewportHeight: 640,
      overscan: 5,
    });
    expect(w.start).toBe(95);
    expect(w.end).toBe(100 + 21 + 5);
    expect(w.offsetTop).toBe(95 * 32);
    expect(w.totalHeight).toBe(320_000);
  });

  it('clamps at both ends', () => {
    expect(computeWindow({ count: 50, rowHeight: 20, scrollTop: -100, viewportHeight: 200 }).start).toBe(0);
    const bottom = computeWindow({ count: 50, rowHeight: 20, scrollTop: 99_999, viewportHeight: 200 });
    expect(bottom.end).toBe(50);
    expect(computeWindow({ count: 0, rowHeight: 20, scrollTop: 0, viewportHeight: 200 })).toMatchObject({
      start: 0,
      end: 0,
    });
  });

  it('scales a 1,000,000-line output below the browser height limit and still reaches the last line', () => {
    const count = 1_000_000;
    const w = computeWindow({
      count,
      rowHeight: 18,
      scrollTop: MAX_SCROLL_HEIGHT,
      viewportHeight: 500,
      overscan: 0,
    });
    expect(w.totalHeight).toBe(MAX_SCROLL_HEIGHT);
    expect(w.end).toBe(count);
    expect(w.end - w.start).toBeLessThan(40);
    const middle = computeWindow({
      count,
      rowHeight: 18,
      scrollTop: (MAX_SCROLL_HEIGHT - 500) / 2,
      viewportHeight: 500,
      overscan: 0,
    });
    expect(Math.abs(middle.start - count / 2)).toBeLessThan(50);
  });

  it('scrollTopForRow inverts computeWindow, scaled or not', () => {
    for (const count of [1000, 1_000_000]) {
      const top = scrollTopForRow(count - 1, count, 18, 500, 'end');
      const w = computeWindow({ count, rowHeight: 18, scrollTop: top, viewportHeight: 500, overscan: 0 });
      expect(w.end).toBe(count);
      const start = scrollTopForRow(700, count, 18, 500, 'start');
      expect(
        computeWindow({ count, rowHeight: 18, scrollTop: start, viewportHeight: 500, overscan: 0 }).start,
      ).toBe(700);
    }
  });
});
