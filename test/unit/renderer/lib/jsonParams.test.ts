import { describe, expect, it } from 'vitest';
import { checkJsonParams, lineColumnOf } from '../../../../renderer/src/lib/jsonParams';

describe('checkJsonParams', () => {
  it('accepts empty text as "no params" and valid JSON as its value', () => {
    expect(checkJsonParams('  \n')).toEqual({ ok: true, value: undefined, empty: true });
    expect(checkJsonParams('{"a": [1, 2.5e3, true, null, "x\\n"]}')).toEqual({
      ok: true,
      value: { a: [1, 2500, true, null, 'x\n'] },
      empty: false,
    });
  });

  it.each([
    ['{"a": }', 6, 'expected a value'],
    ['{"a": 1,}', 7, 'trailing comma'],
    ["{'a': 1}", 1, 'property name in double quotes'],
    ['{\n  "a": 1\n  "b": 2\n}', 13, "',' or '}'"],
    ['[1, 2', 5, "',' or ']'"],
    ['"abc', 4, 'unterminated string'],
    ['tru', 0, 'did you mean true'],
    ['{"a":1} x', 8, 'after the value'],
  ])('locates the error in %j', (text, position, words) => {
    const r = checkJsonParams(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.position).toBe(position);
    expect(r.message).toContain(words);
    const { line, column } = lineColumnOf(text, position);
    expect(r.message).toContain(`Line ${line}, column ${column}`);
  });

  it('agrees with JSON.parse on what is valid', () => {
    for (const text of ['1', '-0.5', '[]', '{}', '"\\u00e9"', '01', '1.', '[,]', '{"a" 1}', 'nul']) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      expect(checkJsonParams(text).ok, text).toBe(valid);
    }
  });
});
