/** Turns an `IpcError` into what the operator reads: context, the main process's message, a next step. */
import type { Ref } from 'vue';
import type { IpcError, IpcErrorCode, IpcResult } from '../../../shared/ipc';
import { assertNever } from '../../../shared/domain/command';

/** What to do next for each error code, added after main's own message. */
export function nextStepFor(code: IpcErrorCode): string {
  switch (code) {
    case 'invalid_input':
      return 'Correct the named field and try again.';
    case 'forbidden':
      return 'Reopen the console from the link the host printed: the access token is missing or outdated.';
    case 'not_found':
      return 'Refresh the list: it may have been removed or have ended.';
    case 'offline':
      return 'Check that the server is running and reachable; the console reconnects by itself.';
    case 'timeout':
      return 'The outcome is unknown: check the current state before trying again.';
    case 'queue_full':
      return 'Wait for pending commands to be delivered, or cancel some in the queue panel.';
    case 'unsupported':
      return 'This server cannot do that (for example a Rust 1.0.0 server): use another server or command.';
    case 'conflict':
      return 'Refresh: the item changed state in the meantime.';
    case 'storage':
      return "Check the disk that holds the console's data (free space, errors), then try again.";
    case 'internal':
      return 'This is a bug in the console: copy this message into a bug report.';
    default:
      return assertNever(code);
  }
}

/** One operator-facing sentence: "Could not pause agent 1b4e28ba: <message> <next step>". */
export function describeError(context: string, error: IpcError): string {
  const message = error.message.trim().replace(/\.?$/, '.');
  return `${context}: ${message} ${nextStepFor(error.code)}`;
}

/**
 * Hands a successful call's value to `apply` and clears `error`; a failed call sets `error` to
 * the operator's sentence (see {@link describeError}) instead. Returns whether the call succeeded.
 */
export function applyResult<T>(
  result: IpcResult<T>,
  error: Ref<string | null>,
  context: string,
  apply: (value: T) => void,
): boolean {
  if (!result.ok) {
    error.value = describeError(context, result.error);
    return false;
  }
  apply(result.value);
  error.value = null;
  return true;
}
