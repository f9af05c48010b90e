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
 * Records that `bytes` are the encoding of `message` (as `encodeMessage` made or read them),
 * and freezes the message, deeply: a change would make it disagree with the bytes that are
 * sent (a changed request_id would leave the reply unmatched), so a change now throws.
 */
export function rememberEncoding(message: ZmqMessage, bytes: Uint8Array): void {
  deepFreeze(message);
  known.set(message, bytes);
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  // Typed arrays cannot be frozen (their bytes live in a buffer); their owner holds them as is.
  if (ArrayBuffer.isView(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

/**
 * `encodeMessage(message)`, or the bytes recorded for this very object.
 * @throws ProtocolError as `encodeMessage` does
 */
export function encodeMessageOnce(message: ZmqMessage): Uint8Array {
  return known.get(message) ?? encodeMessage(message);
}
