/**
 * How the store turns a request into bytes and back. The default stores the exact wire bytes
 * (`encodeMessage`): what is resent after a restart is byte-for-byte what was validated at
 * enqueue, and u64/bigint values, nested JSON and map key order survive without a second
 * serialisation format to keep in sync with the protocol.
 */
import { decodeMessage, encodeMessage, isRequestType, rememberEncoding } from '../../../shared/protocol';
import type { RequestMessage, ZmqMessage } from '../../../shared/protocol';

export interface RequestCodec {
  /** Encodes a request. Throws (ProtocolError) when the message is not a valid request. */
  encode(request: RequestMessage): Uint8Array;
  /** Decodes bytes written by `encode`. Throws when they are not a request message. */
  decode(bytes: Uint8Array): RequestMessage;
}

/** True when the message is one a client sends (it has a reply type). */
function isRequestMessage(message: ZmqMessage): message is RequestMessage {
  return isRequestType(message.type);
}

/**
 * The descartes 1.0.0 wire codec (positional msgpack). It remembers the bytes of each request
 * it encodes or decodes, so the connection sends those very bytes (`encodeMessageOnce`).
 */
export const wireRequestCodec: RequestCodec = {
  encode: (request) => {
    const bytes = encodeMessage(request);
    rememberEncoding(request, bytes);
    return bytes;
  },
  decode: (bytes) => {
    const message = decodeMessage(bytes);
    if (!isRequestMessage(message)) {
      throw new Error(`stored command holds a ${message.type}, not a request message`);
    }
    rememberEncoding(message, bytes);
    return message;
  },
};
