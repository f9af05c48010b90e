/**
 * The descartes 1.0.0 vectors: exact bytes for every message type, and the Rust decoder's verdicts.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeMessage, encodeMessage, type ZmqMessage } from '../../../../shared/protocol';
import { asDecoded, fromHex, loadDecodeVectors, loadVectors, toHex } from './helpers';

const vectors = loadVectors();
const decodeVectors = loadDecodeVectors();

describe('descartes-1.0.0.json (exact bytes)', () => {
  it('covers every message type', () => {
    const types = new Set(vectors.map((v) => v.json.type));
    expect(types.size).toBe(15);
  });

  it('keeps integers above 2^53 exact when loading the vectors', () => {
    const payload = vectors.find((v) => v.name === 'control_command_payload_json_edge_cases')?.json
      .payload as Record<string, unknown>;
    expect(payload.u64_max).toBe(18446744073709551615n);
    expect(payload.i64_min).toBe(-9223372036854775808n);
    expect(payload.u64_2pow53_plus1).toBe(9007199254740993n);
  });

  describe.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    it('encodes to its hex (or alt_hex)', () => {
      const hex = toHex(encodeMessage(v.json as unknown as ZmqMessage));
      if (v.alt_hex === undefined) expect(hex).toBe(v.hex);
      else expect([v.hex, v.alt_hex]).toContain(hex);
    });

    it('decodes its hex to its json', () => {
      expect(decodeMessage(fromHex(v.hex))).toStrictEqual(asDecoded(v.json));
    });

    if (v.alt_hex !== undefined) {
      it('decodes its alt_hex to the same json', () => {
        expect(decodeMessage(fromHex(v.alt_hex as string))).toStrictEqual(asDecoded(v.json));
      });
    }

    it('re-encodes the decoded value to the same bytes', () => {
      const bytes = encodeMessage(decodeMessage(fromHex(v.hex)));
      expect([v.hex, v.alt_hex]).toContain(toHex(bytes));
    });

    it('rejects every truncation of its bytes', () => {
      const bytes = fromHex(v.hex);
      for (let n = 0; n < bytes.length; n++) {
        expect(() => decodeMessage(bytes.subarray(0, n)), `prefix of ${n} bytes`).toThrow(ProtocolError);
      }
    });
  });

  it('encodes log_stream data the same from a Uint8Array and from number[]', () => {
    for (const v of vectors.filter((x) => x.json.type === 'log_stream')) {
      const asArray = toHex(encodeMessage(v.json as unknown as ZmqMessage));
      const asBytes = toHex(encodeMessage(asDecoded(v.json)));
      expect(asBytes).toBe(v.hex);
      expect(asArray).toBe(v.hex);
    }
  });
});

describe('descartes-1.0.0-decode.json (Rust decoder verdicts)', () => {
  describe.each(decodeVectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    if (v.accepted) {
      it('is accepted, decodes to decoded_json and re-encodes to reencoded_hex', () => {
        const msg = decodeMessage(fromHex(v.hex));
        expect(msg).toStrictEqual(v.decoded_json);
        expect(toHex(encodeMessage(msg))).toBe(v.reencoded_hex);
      });
    } else {
      it(`is rejected with a ProtocolError (Rust: ${v.error ?? ''})`, () => {
        let caught: unknown;
        try {
          decodeMessage(fromHex(v.hex));
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(ProtocolError);
        expect((caught as ProtocolError).code).toBe('decode');
      });
    }
  });

  it('names the field in each rejection', () => {
    const reasons = Object.fromEntries(
      decodeVectors
        .filter((v) => !v.accepted)
        .map((v) => {
          try {
            decodeMessage(fromHex(v.hex));
            return [v.name, 'accepted'];
          } catch (e) {
            return [v.name, (e as Error).message];
          }
        }),
    );
    expect(reasons['js_object/missing_required_field']).toMatch(/^health_check_response\.protocol_version: /);
    expect(reasons['array/missing_required_trailing']).toMatch(/^status_update\.timestamp: /);
    expect(reasons['array/extra_trailing_element']).toMatch(/^health_check_request: too many elements/);
    expect(reasons['array/unknown_tag']).toMatch(/^message\.type: unknown message type `reboot_request`/);
    expect(reasons['array/uuid_bin_15_bytes']).toBe(
      'control_command.agent_id: expected a 16-byte uuid, got 15 bytes',
    );
    expect(reasons['array/enum_pascal_case']).toMatch(
      /^control_command\.command_type: unknown variant `Pause`/,
    );
    expect(reasons['array/log_stream_data_bin']).toMatch(
      /^log_stream\.data: expected an array of bytes, got bin/,
    );
    expect(reasons['framing/truncated']).toMatch(
      /^health_check_request\.request_id: unexpected end of input/,
    );
    expect(reasons['jslib/msgpack-js/status_update_timestamp_date']).toMatch(
      /^status_update\.timestamp: .*timestamp ext/,
    );
  });
});
