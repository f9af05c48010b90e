import { describe, expect, it } from 'vitest';
import { checkRegex } from '../../../../renderer/src/lib/regexFilter';

describe('checkRegex', () => {
  it('treats empty as no filter and compiles valid patterns', () => {
    expect(checkRegex('')).toEqual({ ok: true, regex: null });
    const r = checkRegex('^err(or)?\\b');
    expect(r.ok && r.regex?.test('error: x')).toBe(true);
  });

  it('explains an invalid pattern and what to do', () => {
    const r = checkRegex('foo(');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/Invalid regular expression.*escape/);
  });

  it('rejects patterns over 1 KiB of UTF-8', () => {
    expect(checkRegex('a'.repeat(1024)).ok).toBe(true);
    const r = checkRegex('é'.repeat(513));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('1026 bytes');
  });
});
