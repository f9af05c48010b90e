import { describe, expect, it } from 'vitest';
import { highlightMatches, highlightRegex, MAX_PARTS } from '../../../../renderer/src/lib/highlightMatches';

const join = (parts: { text: string }[]) => parts.map((p) => p.text).join('');

describe('highlightMatches', () => {
  it('cuts a line into matched and unmatched parts that join back to it', () => {
    const parts = highlightMatches('warn: disk warn', highlightRegex('warn'));
    expect(parts).toEqual([
      { text: 'warn', match: true },
      { text: ': disk ', match: false },
      { text: 'warn', match: true },
    ]);
  });

  it('reads the filter as the server does: /pattern/flags, and nothing for an empty or invalid one', () => {
    expect(highlightMatches('ERROR x', highlightRegex('/error/i'))[0]).toEqual({
      text: 'ERROR',
      match: true,
    });
    expect(highlightRegex('')).toBeNull();
    expect(highlightRegex('(unclosed')).toBeNull();
    expect(highlightMatches('abc', null)).toEqual([{ text: 'abc', match: false }]);
  });

  it('marks nothing for empty matches and stays bounded on pathological lines', () => {
    expect(highlightMatches('abc', highlightRegex('^'))).toEqual([{ text: 'abc', match: false }]);
    expect(highlightMatches('abc', highlightRegex('x*'))).toEqual([{ text: 'abc', match: false }]);
    const line = 'a'.repeat(10_000);
    const parts = highlightMatches(line, highlightRegex('a'));
    expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    expect(join(parts)).toBe(line);
  });

  it('gives the same parts twice (the shared global copy is reset each time)', () => {
    const re = highlightRegex('b');
    expect(highlightMatches('abcb', re)).toEqual(highlightMatches('abcb', re));
  });
});
