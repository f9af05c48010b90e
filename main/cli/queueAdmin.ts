/**
 * `ctl queue list | history | cancel | retry | discard | dismiss`: reads or edits the durable
 * queue without connecting to any server (nothing is sent; `ctl queue flush` delivers).
 */
import { CommandQueue } from '../core/queue/commandQueue';
import { SqliteCommandStore } from '../core/queue/sqliteCommandStore';
import { QueueError } from '../core/queue/queueErrors';
import { ProfileStore } from '../core/services/profileStore';
import type { QuarantinedCommand } from '../../shared/domain/quarantine';
import type { ServerProfile } from '../../shared/domain/server';
import type { CtlCommand, CtlOptions } from './ctlArgs';
import { EXIT, toJson, type ExitCode } from './ctlOutput';
import type { CtlIo } from './ctlRequests';
import { findProfile, withServer } from './queuedCommands';
import { reportRepairs } from './queueRepairs';

export type QueueAdminCommand = Extract<
  CtlCommand,
  {
    kind: 'queue_list' | 'queue_history' | 'queue_cancel' | 'queue_retry' | 'queue_discard' | 'queue_dismiss';
  }
>;

/**
 * Runs one queue command on `--data-dir` and prints the result.
 * Repairs the queue made on the way (see queueRepairs.ts) are said on stderr.
 * @throws QueueLockedError while another process owns the directory; the queue's errors
 *   (CommandNotFoundError, InvalidTransitionError, QueueFullError) for cancel and retry,
 *   QuarantineEntryNotFoundError for discard, QueueError for dismiss of an unknown notice
 */
export function runQueueAdmin(command: QueueAdminCommand, options: CtlOptions, io: CtlIo): ExitCode {
  const queue = new CommandQueue(SqliteCommandStore.open(options.dataDir));
  try {
    return runOn(queue, command, options, io);
  } finally {
    try {
      reportRepairs(queue, io);
    } catch {
      // Only a failing store gets here, and its error is what this run reports; the repairs
      // stay listed by 'ctl queue list'.
    } finally {
      queue.close();
    }
  }
}

function runOn(queue: CommandQueue, command: QueueAdminCommand, options: CtlOptions, io: CtlIo): ExitCode {
  const profiles = new ProfileStore(options.dataDir).list();
  const profile = options.serverGiven ? findProfile(profiles, options.server) : null;
  // A server without a profile has no commands.
  const none = options.serverGiven && profile === null;
  const serverId = profile?.id;
  switch (command.kind) {
    case 'queue_list': {
      const commands = none ? [] : queue.list(serverId, command.states, command.limit);
      const { quarantined, notices } = queue.health(serverId);
      io.out(
        toJson(
          {
            commands: commands.map((c) => withServer(c, profiles)),
            quarantined: none ? [] : quarantined.map((q) => quarantinedWithServer(q, profiles)),
            notices,
          },
          options.pretty,
        ),
      );
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
    case 'queue_discard':
      io.out(
        toJson(
          { discarded: quarantinedWithServer(queue.discardQuarantined(command.key), profiles) },
          options.pretty,
        ),
      );
      return EXIT.ok;
    case 'queue_dismiss':
      if (!queue.dismissNotice(command.notice)) throw new UnknownNoticeError(command.notice);
      io.out(toJson({ dismissed: command.notice }, options.pretty));
      return EXIT.ok;
    default: {
      const never: never = command;
      return never;
    }
  }
}

/** A quarantined command with its server's endpoint, when its stored server id names a profile. */
function quarantinedWithServer(
  entry: QuarantinedCommand,
  profiles: readonly ServerProfile[],
): QuarantinedCommand & { server: string | null } {
  return { ...entry, server: profiles.find((p) => p.id === entry.serverId)?.endpoint ?? null };
}

/** `queue dismiss` named no notice. */
class UnknownNoticeError extends QueueError {
  readonly code = 'command_not_found';
  constructor(notice: number) {
    super(
      'UnknownNoticeError',
      `No queue notice ${notice}; it may have been dismissed already ('ctl queue list' shows the notices).`,
    );
  }
}
