/**
 * The one error the codec throws. Its message names the message type and the field path, e.g.
 * `control_command.agent_id: expected a 16-byte uuid, got 15 bytes`.
 */

export type ProtocolErrorCode = 'decode' | 'encode' | 'too_large';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** What went wrong: bad input bytes, a message that cannot be encoded, or a message over 10 MiB. */
  readonly code: ProtocolErrorCode;
  /** The message's `type` tag when it was known at the time of the error, else null. */
  readonly messageType: string | null;
  /** Field path inside the message, e.g. `agents[1].started_at.nanos_since_epoch` ('' for the message itself). */
  readonly path: string;
  /** The problem, without the location. */
  readonly reason: string;

  constructor(code: ProtocolErrorCode, messageType: string | null, path: string, reason: string) {
    super(`${location(messageType, path)}: ${reason}`);
    this.code = code;
    this.messageType = messageType;
    this.path = path;
    this.reason = reason;
  }
}

function location(messageType: string | null, path: string): string {
  const head = messageType ?? 'message';
  if (path === '') return head;
  return path.startsWith('[') ? head + path : `${head}.${path}`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Longest piece of input text (a key, a tag, a variant) quoted in an error, in UTF-16 units. */
export const MAX_QUOTED_CHARS = 64;

/**
 * `text`, or its first {@link MAX_QUOTED_CHARS} characters and how long it was: errors quote the
 * sender's text, and a reply carrying an error must not grow with what a hostile sender wrote.
 */
export function clipText(text: string): string {
  if (text.length <= MAX_QUOTED_CHARS) return text;
  return `${text.slice(0, MAX_QUOTED_CHARS)}… (${text.length} chars)`;
}

/**
 * Joins path segments: field names and JSON keys become `.name` (or `["odd key"]`), indices `[i]`.
 * Only called when an error is thrown, never on the hot path.
 */
export function formatPath(segments: readonly (string | number)[], count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    const s = segments[i];
    if (typeof s === 'number') out += `[${s}]`;
    else if (s !== undefined) {
      const key = clipText(s);
      out += IDENTIFIER.test(key) ? (out === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}
