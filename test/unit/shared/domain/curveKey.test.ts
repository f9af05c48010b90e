import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import {
  allowCommand,
  curveKeyFingerprint,
  CurveKeyError,
  isCurveKey,
  parseCurveKey,
  z85Decode,
  z85Encode,
} from '../../../../shared/domain/curveKey';

describe('Z85 keys', () => {
  it('encodes the ZeroMQ RFC 32 test vector', () => {
    const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).toBe('HelloWorld');
  });

  it('round-trips keys made by libzmq', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey, secretKey } = zmq.curveKeyPair();
      for (const key of [publicKey, secretKey]) {
        expect(isCurveKey(key)).toBe(true);
        expect(z85Encode(z85Decode(key))).toBe(key);
      }
    }
  });

  it('trims whitespace around a pasted key and names what is wrong with a bad one', () => {
    const { publicKey } = zmq.curveKeyPair();
    expect(parseCurveKey(`  ${publicKey}\n`)).toBe(publicKey);
    expect(() => parseCurveKey('abc', 'server key')).toThrow('server key must be 40 characters of Z85 text');
    expect(() => parseCurveKey(`${publicKey.slice(0, 39)} `)).toThrow(/got 39/);
    expect(() => parseCurveKey(`${publicKey.slice(0, 10)}"${publicKey.slice(11)}`)).toThrow(
      `'"' at position 11, which is not a Z85 character`,
    );
    // "#####" is 85^5 - 1, above 2^32 - 1: not bytes at all.
    expect(() => parseCurveKey(`#####${publicKey.slice(5)}`)).toThrow(CurveKeyError);
    expect(isCurveKey(` ${publicKey}`)).toBe(false);
  });

  it('fingerprints as four hex groups of the key bytes', () => {
    const { publicKey } = zmq.curveKeyPair();
    const hex = Buffer.from(z85Decode(publicKey)).toString('hex');
    expect(curveKeyFingerprint(publicKey)).toBe(
      `${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}:${hex.slice(12, 16)}`,
    );
  });

  it('quotes the key in the allow command so a shell keeps every Z85 character', () => {
    const key = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7';
    expect(allowCommand(key)).toBe(`npm run server -- allow '${key}'`);
    expect(allowCommand(key, 'laptop')).toBe(`npm run server -- allow '${key}' --name laptop`);
  });
});
