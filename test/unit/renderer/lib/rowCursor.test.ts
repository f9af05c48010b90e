import { describe, expect, it } from 'vitest';
import { stepRow } from '../../../../renderer/src/lib/rowCursor';

describe('stepRow (j/k)', () => {
  const ids = ['a', 'b', 'c'];
  it('moves one row and stops at either end', () => {
    expect(stepRow(ids, 'a', 1)).toBe(1);
    expect(stepRow(ids, 'b', -1)).toBe(0);
    expect(stepRow(ids, 'c', 1)).toBe(2);
    expect(stepRow(ids, 'a', -1)).toBe(0);
  });
  it('starts at the first row for j and the last for k when no shown row is current', () => {
    expect(stepRow(ids, null, 1)).toBe(0);
    expect(stepRow(ids, null, -1)).toBe(2);
    expect(stepRow(ids, 'gone', 1)).toBe(0);
  });
  it('has nowhere to go in an empty table', () => {
    expect(stepRow([], null, 1)).toBeNull();
  });
});
