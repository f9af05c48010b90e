/**
 * descartes 1.0.0 wire protocol: message types and the positional msgpack codec.
 * (Stub: the codec is being written in shared/protocol/codec/.)
 */
export * from './types';

import type { ZmqMessage } from './types';

/** Encodes a message to the exact bytes `rmp_serde::to_vec` writes. Throws ProtocolError. */
export function encodeMessage(_msg: ZmqMessage): Uint8Array {
  throw new Error('not implemented yet');
}

/** Decodes one message, accepting what the Rust decoder accepts. Throws ProtocolError. */
export function decodeMessage(_bytes: Uint8Array): ZmqMessage {
  throw new Error('not implemented yet');
}
