import { describe, expect, it } from 'vitest';
import { checkRegex } from '../../../../renderer/src/lib/regexFilter';

describe('checkRegex', () => {
  it('treats empty as no filter and compiles valid patterns', () => {
    expect(checkRegex('')).toEqual({ ok: true, regex: null });
    const r = checkRegex('^err(or)?\\b');
    expect(r.ok && r.regex?.test('error: x')).toBe(true);
  });

  it('reads /pattern/flags as the server does, so the live tail keeps the lines a query returns', () => {
    const r = checkRegex('/error/i');
    expect(r.ok && r.regex?.test('An ERROR')).toBe(true);
    expect(r.ok && r.regex?.test('/error/i')).toBe(true);
    const g = checkRegex('/error/g');
    expect(g.ok).toBe(false);
    if (!g.ok) expect(g.message).toMatch(/flag 'g' is not allowed \(allowed: i, m, s, u\)/);
  });

  it('explains an invalid pattern and what to do', () => {
    const r = checkRegex('foo(');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^Invalid regular expression: (?!Invalid).*escape/);
  });

  it('rejects patterns over 1 KiB of UTF-8', () => {
    expect(checkRegex('a'.repeat(1024)).ok).toBe(true);
    const r = checkRegex('é'.repeat(513));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('1026 bytes');
  });
});
