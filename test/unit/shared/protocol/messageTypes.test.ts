import { describe, expect, it } from 'vitest';
import { isMessageType, isRequestType, MESSAGE_TYPES, REPLY_TYPE } from '../../../../shared/protocol';
import { MESSAGES } from '../../../../shared/protocol/codec/schema';

describe('the message tag list', () => {
  it("is the codec's schema table, tag for tag and in the Rust enum's order", () => {
    expect(MESSAGES.map((m) => m.tag)).toEqual(MESSAGE_TYPES);
  });

  it('tells messages and requests apart from anything else', () => {
    for (const tag of MESSAGE_TYPES) {
      expect(isMessageType(tag)).toBe(true);
      expect(isRequestType(tag)).toBe(Object.keys(REPLY_TYPE).includes(tag));
    }
    for (const tag of ['', 'toString', '__proto__', 'constructor', 'Spawn_request', 'spawn_request ']) {
      expect(isMessageType(tag)).toBe(false);
      expect(isRequestType(tag)).toBe(false);
    }
    expect(MESSAGE_TYPES.filter(isRequestType)).toHaveLength(7);
  });
});
