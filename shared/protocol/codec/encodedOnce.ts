/**
 * The wire bytes of messages that were already encoded once. The command queue encodes every
 * request when it stores it (and reads the same bytes back after a restart); the connection
 * then sends those bytes instead of encoding the request again on every send. Keyed weakly by
 * the message object, so a message that is dropped takes its bytes with it.
 */
import { encodeMessage } from './encode';
import type { ZmqMessage } from '../types';

const known = new WeakMap<ZmqMessage, Uint8Array>();

/**
 * Records that `bytes` are the encoding of `message` (as `encodeMessage` made or read them).
 * The message must not be changed afterwards: its bytes would no longer match.
 */
export function rememberEncoding(message: ZmqMessage, bytes: Uint8Array): void {
  known.set(message, bytes);
}

/**
 * `encodeMessage(message)`, or the bytes recorded for this very object.
 * @throws ProtocolError as `encodeMessage` does
 */
export function encodeMessageOnce(message: ZmqMessage): Uint8Array {
  return known.get(message) ?? encodeMessage(message);
}
