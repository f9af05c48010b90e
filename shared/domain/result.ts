import { assertNever, describeState, type QueuedCommand } from './command';

/**
 * What issuing a mutating command (spawn, control, custom action, batch) gave:
 * - `done`: the server replied (the reply may still say `success: false`: read it);
 * - `queued`: the server is not reachable; the command is on disk and is delivered, once,
 *   when it comes back (or expires);
 * - `unknown`: it was sent but no reply came in time: the server may have run it. With a
 *   dedupe server the console resends it with the same request_id to find out;
 * - `failed`: it could not be sent at all (e.g. the reply was unusable or it is too large).
 */
export type CommandResult<R> =
  | { readonly status: 'done'; readonly command: QueuedCommand; readonly reply: R }
  | { readonly status: 'queued'; readonly command: QueuedCommand }
  | { readonly status: 'unknown'; readonly command: QueuedCommand; readonly reason: string }
  | { readonly status: 'failed'; readonly command: QueuedCommand; readonly error: string };

/**
 * Why a command ended as `failed`, `expired` or `cancelled`, in a few words: the server's error
 * (or its reply's detail), the local send error, or what withdrew it.
 */
export function failureReason(command: QueuedCommand): string {
  const o = command.outcome;
  switch (o?.kind) {
    case 'reply':
      return o.error ?? o.detail;
    case 'send_error':
      return o.message;
    case 'expired':
      return 'expired before it could be sent (it was never sent)';
    case 'cancelled':
      return o.reason;
    case 'unknown':
    case undefined:
      return describeState(command.state);
    default:
      return assertNever(o);
  }
}

/** Why a `timed_out` command's outcome is unknown (its recorded reason, else "no reply in time"). */
export function unknownReason(command: QueuedCommand): string {
  return command.outcome?.kind === 'unknown' ? command.outcome.reason : 'no reply in time';
}

/**
 * The result a caller gets for `command` as it is now, with `reply` when one settled it. The
 * one mapping from queue states to results (the service, ctl and the IPC handlers use it):
 * - `succeeded` / `failed` with the reply → `done` (read the reply's own `success`); without it
 *   → `failed` with {@link failureReason};
 * - `timed_out` → `unknown`;
 * - `sending` → `unknown` too: the command was handed to the connection and may have reached
 *   the server and run, so calling it `queued` ("not reachable, delivered later") would be
 *   wrong. `sendingReason` says what the caller waited for and who settles it now;
 * - `queued` → `queued`;
 * - `expired` / `cancelled` → `failed`: it was never run by this request.
 */
export function commandResult<R>(
  command: QueuedCommand,
  reply: R | null,
  sendingReason = 'sent, but no reply yet: the server may have run it',
): CommandResult<R> {
  switch (command.state) {
    case 'succeeded':
    case 'failed':
      if (reply !== null) return { status: 'done', command, reply };
      return { status: 'failed', command, error: failureReason(command) };
    case 'timed_out':
      return { status: 'unknown', command, reason: unknownReason(command) };
    case 'sending':
      return { status: 'unknown', command, reason: sendingReason };
    case 'queued':
      return { status: 'queued', command };
    case 'expired':
    case 'cancelled':
      return { status: 'failed', command, error: failureReason(command) };
    default:
      return assertNever(command.state);
  }
}
