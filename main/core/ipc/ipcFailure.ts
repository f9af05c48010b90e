import { fail, type IpcErrorCode, type IpcResult } from '../../../shared/ipc';
import { QueueError } from '../queue/queueErrors';
import { UnsupportedError } from '../services/agentControlService';
import { EmbeddedRestartError } from '../services/embeddedServerControl';
import { ProfileError } from '../services/profileStore';
import { RequestError } from '../transport/requestError';

/** Thrown by a handler to fail with a chosen code (e.g. an unknown subscription). */
export class IpcFailure extends Error {
  override readonly name = 'IpcFailure';
  constructor(
    readonly code: IpcErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Maps anything a handler throws to the `IpcResult` the renderer receives. Known errors keep
 * their (operator-facing) message with a hint on what to do next; anything else is `internal`.
 */
export function toIpcFailure(error: unknown): IpcResult<never> {
  if (error instanceof IpcFailure) return fail(error.code, error.message);
  if (error instanceof ProfileError) {
    switch (error.code) {
      case 'not_found':
        return fail('not_found', `${error.message}. Refresh the server list; it may have been removed.`);
      case 'invalid':
        return fail('invalid_input', error.message);
      case 'duplicate':
        return fail('conflict', `${error.message}; edit that server instead of adding it again.`);
      case 'corrupt':
        return fail('internal', error.message);
      default:
        return unexpected(error);
    }
  }
  if (error instanceof RequestError) {
    switch (error.code) {
      case 'offline':
      case 'closed':
      case 'backpressure':
        return fail(
          'offline',
          `${error.message}. Nothing was sent: check that the server is running and reachable, then try again once it shows online.`,
        );
      case 'timeout':
      case 'connection_lost':
        return fail(
          'timeout',
          `${error.message}. The server may or may not have done it: check the agent's state before trying again.`,
        );
      case 'too_large':
        return fail('invalid_input', `${error.message}. Send less data at once.`);
      case 'protocol':
        return fail('internal', `The server sent an unusable reply: ${error.message}`);
      default:
        return unexpected(error);
    }
  }
  if (error instanceof UnsupportedError) {
    return fail('unsupported', `${error.message}; upgrade the server to use this feature.`);
  }
  if (error instanceof QueueError) return queueFailure(error);
  if (error instanceof EmbeddedRestartError) {
    // Not `internal` (a bug): a server that could not start is unreachable, and the message
    // says why and what to do.
    return fail(error.code === 'busy' ? 'conflict' : 'offline', error.message);
  }
  return unexpected(error);
}

/**
 * The result for each queue error, by its stable code (main/core/queue/queueErrors.ts): a new
 * code does not compile until it is given a result here.
 */
function queueFailure(error: QueueError): IpcResult<never> {
  switch (error.code) {
    case 'queue_full':
      return fail('queue_full', error.message);
    case 'invalid_transition':
      return fail('conflict', `${error.message} Refresh the queue to see its current state.`);
    case 'command_not_found':
      return fail('not_found', `${error.message} Refresh the queue; it may have been removed.`);
    case 'invalid_command':
      return fail('invalid_input', error.message);
    case 'duplicate_command':
      return fail('conflict', error.message);
    case 'queue_closed':
      return fail('internal', `${error.message} The console is shutting down; restart it.`);
    case 'quarantine_entry_not_found':
      return fail('not_found', `${error.message} Refresh the queue.`);
    case 'disk_full':
    case 'store_failure':
      // The disk, not the console: the message says what failed and what was kept.
      return fail('storage', error.message);
    case 'queue_locked':
      // Only at start: another console owns the data dir, and its message says which.
      return fail('internal', error.message);
  }
}

function unexpected(error: unknown): IpcResult<never> {
  const message = error instanceof Error ? error.message : String(error);
  return fail('internal', `Unexpected error: ${message}. This is a bug; the console log has details.`);
}
