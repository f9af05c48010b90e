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

  it('throws SyntaxError on non-JSON', () => {
    expect(() => parseWire('{nope')).toThrow(SyntaxError);
  });
});
