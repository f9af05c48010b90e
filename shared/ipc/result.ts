/**
 * What crosses the IPC boundary instead of a thrown error: Electron keeps only the message of
 * an error thrown in a handler, so every handler returns one of these.
 */

/** Stable error codes the renderer can act on. */
export type IpcErrorCode =
  | 'invalid_input' // the argument failed the channel's schema; message names the field
  | 'forbidden' // the sender is not our window's top frame, or the token/origin is wrong
  | 'not_found' // unknown server, agent or command
  | 'offline' // the server is unreachable; nothing was sent
  | 'timeout' // no reply in time; the outcome is unknown
  | 'queue_full' // too many pending commands for that server
  | 'unsupported' // the server cannot do this (e.g. a Rust 1.0.0 server)
  | 'conflict' // the command is in a state that does not allow this
  | 'storage' // the console's data directory could not be written (disk full, failed fsync): the message says what was kept
  | 'internal'; // a bug: the message says what failed

export interface IpcError {
  readonly code: IpcErrorCode;
  /** One sentence for the operator: what went wrong and, where possible, what to do next. */
  readonly message: string;
}

export type IpcResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: IpcError };

export const ok = <T>(value: T): IpcResult<T> => ({ ok: true, value });
export const fail = (code: IpcErrorCode, message: string): IpcResult<never> => ({
  ok: false,
  error: { code, message },
});
