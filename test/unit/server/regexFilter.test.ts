import { describe, expect, it } from 'vitest';
import { compileFilter, InvalidRegexError, RegexTimeoutError } from '../../../server/regexFilter';

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

describe('RegexTimeoutError', () => {
  it('names the budget and its config key', () => {
    expect(new RegexTimeoutError(2000).message).toMatch(/time budget of 2000 ms \(query_budget_ms\)/);
  });
});
