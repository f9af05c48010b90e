import type { QueuedCommand } from './command';

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
