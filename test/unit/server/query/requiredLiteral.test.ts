import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requiredLiteral } from '../../../../server/query/requiredLiteral';

const lit = (pattern: string, flags = ''): string | null => requiredLiteral(pattern, flags);

describe('requiredLiteral', () => {
  it('takes the longest top-level literal run of at least 3 characters', () => {
    expect(lit('ERROR .*timeout')).toBe('timeout');
    expect(lit('^flood 09999\\d\\d x+$')).toBe('flood 09999');
    expect(lit('abc')).toBe('abc');
    expect(lit('ab')).toBeNull();
    expect(lit('a\\.b\\/c')).toBe('a.b/c');
  });

  it('leaves out characters a quantifier makes optional', () => {
    expect(lit('colou?r')).toBe('colo');
    expect(lit('abcd*')).toBe('abc');
    expect(lit('abcd{0,2}xyz')).toBe('abc');
    expect(lit('abcd+xyz')).toBe('abcd');
    expect(lit('abc{2}')).toBeNull();
  });

  it('gives nothing for an alternation, the i flag, or text only inside groups and classes', () => {
    expect(lit('error|warning')).toBeNull();
    expect(lit('error', 'i')).toBeNull();
    expect(lit('(error|warn)ing')).toBe('ing');
    expect(lit('(?<word>abc)')).toBeNull();
    expect(lit('[abc]def')).toBe('def');
    expect(lit('x(?=abc)y')).toBeNull();
  });

  it('never takes the tail of an escape for text', () => {
    expect(lit('\\x41\\x42\\x43')).toBeNull();
    expect(lit('\\u{1F600}abc', 'u')).toBe('abc');
    expect(lit('\\u0041BCD')).toBe('BCD');
    expect(lit('\\p{Lu}xyz', 'u')).toBe('xyz');
    expect(lit('(?<n>a)\\k<n>bcd')).toBe('bcd');
    expect(lit('\\d\\d\\d')).toBeNull();
  });

  it('stops at non-ASCII text (the byte search is for ASCII only)', () => {
    expect(lit('grüße')).toBeNull();
    expect(lit('abcé')).toBe('abc');
  });

  it('every string a pattern matches contains its literal', () => {
    const pieces = fc.constantFrom(
      'a',
      'b',
      'c',
      'ab',
      'abc',
      '\\.',
      '.',
      '\\d',
      '\\x61',
      '[ab]',
      '(ab|c)',
      '(?:abc)?',
      '?',
      '*',
      '+',
      '{2}',
      '{0,2}',
      '{',
      '}',
      '|',
      '^',
      '$',
      '(?=a)',
    );
    fc.assert(
      fc.property(
        fc.array(pieces, { minLength: 1, maxLength: 8 }),
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', '.', '1', '{', '}', 'x') }), {
          minLength: 1,
          maxLength: 20,
        }),
        (parts, subjects) => {
          const source = parts.join('');
          let re: RegExp;
          try {
            re = new RegExp(source);
          } catch {
            return; // not a pattern
          }
          const literal = requiredLiteral(source, '');
          if (literal === null) return;
          for (const s of subjects) if (re.test(s)) expect(s).toContain(literal);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
