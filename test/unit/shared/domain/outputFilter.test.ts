import { describe, expect, it } from 'vitest';
import { parseOutputFilter, type OutputFilter } from '../../../../shared/domain/outputFilter';

/** The compiled filter; fails the test when it was refused or empty. */
function regexOf(filter: string): RegExp {
  const parsed = parseOutputFilter(filter);
  if (!parsed.ok || parsed.regex === null) throw new Error(`expected a regex, got ${JSON.stringify(parsed)}`);
  return parsed.regex;
}

function refusal(filter: string): Extract<OutputFilter, { ok: false }> {
  const parsed = parseOutputFilter(filter);
  if (parsed.ok) throw new Error(`expected '${filter}' to be refused`);
  return parsed;
}

describe('parseOutputFilter', () => {
  it('reads the empty filter as no filter', () => {
    expect(parseOutputFilter('')).toEqual({ ok: true, regex: null });
  });

  it('reads a bare pattern without flags and the /pattern/flags form', () => {
    expect(regexOf('err(or)?').test('an error')).toBe(true);
    expect(regexOf('ERROR').test('error')).toBe(false);
    const re = regexOf('/^error$/im');
    expect(re.flags).toBe('im');
    expect(re.test('x\nERROR')).toBe(true);
    expect(regexOf('/error/i').test('An ERROR')).toBe(true);
    expect(regexOf('/error/i').test('/error/i')).toBe(true);
  });

  it('always reads /…/letters as the literal form: /usr/ is the pattern usr', () => {
    expect(regexOf('/usr/').source).toBe('usr');
    expect(regexOf('/usr/bin/').source).toBe('usr\\/bin');
    // Letters after the last slash are flags, even when they were meant as a path.
    expect(refusal('/usr/bin').detail).toMatch(/flag 'b' is not allowed/);
  });

  it('refuses an invalid pattern with the engine message', () => {
    const bad = refusal('(unclosed');
    expect(bad.problem).toBe('syntax');
    expect(bad.detail).toMatch(/Unterminated group/);
    // The engine's own lead is dropped: callers add theirs ("invalid regex: …" on the wire).
    expect(bad.detail).not.toMatch(/invalid regular expression/i);
  });

  it('refuses flags other than i, m, s, u and repeated flags', () => {
    expect(refusal('/a/g')).toEqual({
      ok: false,
      problem: 'flag',
      detail: "flag 'g' is not allowed (allowed: i, m, s, u)",
    });
    expect(refusal('/a/y').detail).toMatch(/flag 'y'/);
    expect(refusal('/a/ii').detail).toMatch(/repeated/);
    expect(regexOf('/a/su').flags).toBe('su');
  });

  it('refuses a filter over 1 KiB (UTF-8 bytes)', () => {
    expect(regexOf('a'.repeat(1024)).source).toHaveLength(1024);
    const long = refusal('a'.repeat(1025));
    expect(long.problem).toBe('too_long');
    expect(long.detail).toMatch(/1025 bytes long, at most 1024/);
    expect(refusal('é'.repeat(513)).detail).toMatch(/1026 bytes/);
  });
});
