import { describe, expect, it } from 'vitest';
import { parseWire, stringifyWire } from '../../../../shared/ipc/wireJson';

describe('wire JSON (both ends of the browser host WebSocket)', () => {
  it('round-trips bigints above 2^53 and leaves other values alone', () => {
    const value = {
      id: 1,
      big: 2n ** 64n - 1n,
      neg: -(2n ** 60n),
      list: [1, 'x', null, { n: 3 }],
      nested: { $bigint: 5 },
    };
    const text = stringifyWire(value);
    expect(text).toContain('{"$bigint":"18446744073709551615"}');
    expect(parseWire(text)).toEqual(value);
  });

  it('does not turn look-alikes into bigints', () => {
    expect(parseWire('{"$bigint":"12","x":1}')).toEqual({ $bigint: '12', x: 1 });
    expect(parseWire('{"$bigint":"1e5"}')).toEqual({ $bigint: '1e5' });
  });

  it('revives a bigint whose key is spelled with \\u escapes, as JSON allows', () => {
    expect(parseWire('{"a":{"\\u0024bigint":"9007199254740993"}}')).toEqual({ a: 9007199254740993n });
    expect(parseWire('[{"\\u0024big\\u0069nt":"-7"}]')).toEqual([-7n]);
  });

  it('writes plain JSON when nothing is a bigint, and throws TypeError on a cycle either way', () => {
    const value = { a: [1, { b: 'x\u0000' }], c: null };
    expect(stringifyWire(value)).toBe(JSON.stringify(value));
    const cycle: { self?: unknown; n: bigint } = { n: 1n };
    cycle.self = cycle;
    expect(() => stringifyWire(cycle)).toThrow(TypeError);
  });

  it('throws SyntaxError on non-JSON', () => {
    expect(() => parseWire('{nope')).toThrow(SyntaxError);
  });
});
