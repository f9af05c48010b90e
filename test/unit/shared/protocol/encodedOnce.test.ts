import { describe, expect, it } from 'vitest';
import { encodeMessage, encodeMessageOnce, rememberEncoding } from '../../../../shared/protocol';
import type { ControlCommand } from '../../../../shared/protocol';
import { wireRequestCodec } from '../../../../main/core/queue/requestCodec';

function control(): ControlCommand {
  return {
    type: 'control_command',
    request_id: '6a2f41a3-c54c-4c01-8c3e-2b5f3e1f6f10',
    agent_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    command_type: 'pause',
    payload: null,
  };
}

describe('encodeMessageOnce', () => {
  it('encodes a message it has not seen', () => {
    expect(encodeMessageOnce(control())).toEqual(encodeMessage(control()));
  });

  it('returns the very bytes remembered for that object, and only for that object', () => {
    const msg = control();
    const bytes = encodeMessage(msg);
    rememberEncoding(msg, bytes);
    expect(encodeMessageOnce(msg)).toBe(bytes);
    expect(encodeMessageOnce(control())).not.toBe(bytes);
  });

  it('freezes a remembered message, so it cannot drift from its bytes', () => {
    const msg = { ...control(), payload: { nested: { n: 1 } } };
    rememberEncoding(msg, encodeMessage(msg));
    expect(() => {
      (msg as { request_id: string }).request_id = 'changed';
    }).toThrow(TypeError);
    expect(Object.isFrozen(msg.payload.nested)).toBe(true);
  });

  it('the queue’s codec remembers what it encodes and decodes, so a send reuses the stored bytes', () => {
    const msg = control();
    const stored = wireRequestCodec.encode(msg);
    expect(encodeMessageOnce(msg)).toBe(stored);
    const loaded = wireRequestCodec.decode(stored);
    expect(loaded).toEqual(msg);
    expect(encodeMessageOnce(loaded)).toBe(stored);
  });
});
