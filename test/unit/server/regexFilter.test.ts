import { describe, expect, it } from 'vitest';
import {
  compileFilter,
  InvalidRegexError,
  RegexScanner,
  RegexTimeoutError,
} from '../../../server/regexFilter';

describe('compileFilter', () => {
  it('reads a bare pattern without flags and the /pattern/flags form', () => {
    expect(compileFilter('err(or)?').test('an error')).toBe(true);
    expect(compileFilter('ERROR').test('error')).toBe(false);
    const re = compileFilter('/^error$/im');
    expect(re.flags).toBe('im');
    expect(re.test('x\nERROR')).toBe(true);
  });

  it('rejects an invalid pattern with an "invalid regex" message', () => {
    expect(() => compileFilter('(unclosed')).toThrow(InvalidRegexError);
    expect(() => compileFilter('(unclosed')).toThrow(/^invalid regex: .*/);
  });

  it('rejects flags other than i, m, s, u and repeated flags', () => {
    expect(() => compileFilter('/a/g')).toThrow(
      "invalid regex: flag 'g' is not allowed (allowed: i, m, s, u)",
    );
    expect(() => compileFilter('/a/y')).toThrow(/flag 'y'/);
    expect(() => compileFilter('/a/ii')).toThrow(/repeated/);
    expect(compileFilter('/a/su').flags).toBe('su');
  });

  it('rejects a filter over 1 KiB (UTF-8 bytes)', () => {
    expect(compileFilter('a'.repeat(1024)).source).toHaveLength(1024);
    expect(() => compileFilter('a'.repeat(1025))).toThrow(/1025 bytes long, at most 1024/);
    expect(() => compileFilter('é'.repeat(513))).toThrow(/1026 bytes/);
  });
});

describe('RegexScanner', () => {
  const scanner = new RegexScanner();
  const args = (re: RegExp | null, lines: string[], mask = 3) => ({
    blocks: [lines],
    tags: [new Uint8Array(lines.map((_l, i) => i % 2))],
    start: 0,
    count: lines.length,
    mask,
    re,
    offset: 0,
    limit: 100,
  });

  it('matches like a plain filter, honouring the stream mask', () => {
    const lines = ['a1', 'b2', 'a3', 'b4'];
    expect(scanner.scan(args(/a/, lines), 1000)).toMatchObject({ total: 2, lines: ['a1', 'a3'] });
    expect(scanner.scan(args(/\d/, lines, 2), 1000)).toMatchObject({ total: 2, lines: ['b2', 'b4'] });
    expect(scanner.scan(args(null, lines, 1), 1000)).toMatchObject({ total: 2, lines: ['a1', 'a3'] });
  });

  it('stops runaway backtracking at the budget and keeps working after', () => {
    const started = Date.now();
    expect(() => scanner.scan(args(/^(a+)+$/, [`${'a'.repeat(40)}b`]), 50)).toThrow(RegexTimeoutError);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(scanner.scan(args(/b$/, ['ab']), 1000).total).toBe(1);
  });
});
