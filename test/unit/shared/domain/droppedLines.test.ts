import { describe, expect, it } from 'vitest';
import { droppedLinesNotice, parseDroppedLinesNotice } from '../../../../shared/domain/droppedLines';

describe('dropped-lines notice', () => {
  it('is one fixed sentence, singular or plural', () => {
    expect(droppedLinesNotice(1)).toBe('notice: 1 earlier line dropped (output limits)');
    expect(droppedLinesNotice(1234)).toBe('notice: 1234 earlier lines dropped (output limits)');
  });

  it('parses back to its count', () => {
    for (const n of [1, 2, 1234, Number.MAX_SAFE_INTEGER]) {
      expect(parseDroppedLinesNotice(droppedLinesNotice(n))).toBe(n);
    }
  });

  it('reads anything else as no notice', () => {
    expect(parseDroppedLinesNotice(null)).toBe(0);
    expect(parseDroppedLinesNotice(undefined)).toBe(0);
    expect(parseDroppedLinesNotice('')).toBe(0);
    expect(parseDroppedLinesNotice('invalid regex: nothing to repeat')).toBe(0);
    expect(parseDroppedLinesNotice('notice: 12 earlier lines dropped (output limits) and more')).toBe(0);
    expect(
      parseDroppedLinesNotice('notice: 99999999999999999999 earlier lines dropped (output limits)'),
    ).toBe(0);
  });

  it('refuses a count that is not a positive integer', () => {
    expect(() => droppedLinesNotice(0)).toThrow(RangeError);
    expect(() => droppedLinesNotice(1.5)).toThrow(RangeError);
  });
});
