/**
 * `ctl queue list | history | cancel | retry`: reads or edits the durable queue without
 * connecting to any server (nothing is sent; `ctl queue flush` delivers).
 */
import { CommandQueue } from '../core/queue/commandQueue';
import { SqliteCommandStore } from '../core/queue/sqliteCommandStore';
import { ProfileStore } from '../core/services/profileStore';
import type { CtlCommand, CtlOptions } from './ctlArgs';
import { EXIT, toJson, type ExitCode } from './ctlOutput';
import type { CtlIo } from './ctlRequests';
import { findProfile, withServer } from './queuedCommands';

export type QueueAdminCommand = Extract<
  CtlCommand,
  { kind: 'queue_list' | 'queue_history' | 'queue_cancel' | 'queue_retry' }
>;

/**
 * Runs one queue command on `--data-dir` and prints the result.
 * @throws QueueLockedError while another process owns the directory; the queue's errors
 *   (CommandNotFoundError, InvalidTransitionError, QueueFullError) for cancel and retry
 */
export function runQueueAdmin(command: QueueAdminCommand, options: CtlOptions, io: CtlIo): ExitCode {
  const queue = new CommandQueue(SqliteCommandStore.open(options.dataDir));
  try {
    const profiles = new ProfileStore(options.dataDir).list();
    const profile = options.serverGiven ? findProfile(profiles, options.server) : null;
    // A server without a profile has no commands.
    const none = options.serverGiven && profile === null;
    const serverId = profile?.id;
    switch (command.kind) {
      case 'queue_list': {
        const commands = none ? [] : queue.list(serverId, command.states, command.limit);
        io.out(toJson({ commands: commands.map((c) => withServer(c, profiles)) }, options.pretty));
        return EXIT.ok;
      }
      case 'queue_history': {
        const commands = none
          ? []
          : queue.history({ limit: command.limit, ...(serverId === undefined ? {} : { serverId }) });
        io.out(toJson({ commands: commands.map((c) => withServer(c, profiles)) }, options.pretty));
        return EXIT.ok;
      }
      case 'queue_cancel':
        io.out(
          toJson(
            { command: withServer(queue.cancel(command.id, 'cancelled with ctl'), profiles) },
            options.pretty,
          ),
        );
        return EXIT.ok;
      case 'queue_retry':
        io.out(toJson({ command: withServer(queue.retry(command.id), profiles) }, options.pretty));
        return EXIT.ok;
      default: {
        const never: never = command;
        return never;
      }
    }
  } finally {
    queue.close();
  }
}
