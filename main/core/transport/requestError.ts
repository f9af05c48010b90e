/**
 * Why a request did not produce a reply.
 * - `offline`: not sent, the server is known to be unreachable. Safe to retry.
 * - `timeout`: sent, no reply in time. The outcome is **unknown**, not failed.
 * - `connection_lost`: sent, then the connection was reset. Outcome unknown.
 * - `protocol`: a reply came that is not a valid answer (wrong type, undecodable).
 * - `too_large`: the request encodes to more than 10 MiB; not sent.
 * - `backpressure`: too many requests waiting to be written; not sent.
 * - `closed`: the connection was closed by us; not sent or abandoned.
 */
export type RequestErrorCode =
  'offline' | 'timeout' | 'connection_lost' | 'protocol' | 'too_large' | 'backpressure' | 'closed';

export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    /** Whether the server may have run the request (its outcome is unknown). */
    readonly outcomeUnknown: boolean = code === 'timeout' || code === 'connection_lost',
  ) {
    super(message);
  }
}
