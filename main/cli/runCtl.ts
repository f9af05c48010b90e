import { QueueError, QueueLockedError } from '../core/queue/queueErrors';
import { KeyFileError } from '../../shared/node/curveKeyPair';
import { loadClientKey } from '../core/security/clientKey';
import { ProfileError } from '../core/services/profileStore';
import { RequestError } from '../core/transport/requestError';
import { CtlUsageError, parseCtlArgs, type ParseEnv } from './ctlArgs';
import { EXIT, toJson, type ExitCode } from './ctlOutput';
import type { CtlIo } from './ctlRequests';
import { CTL_USAGE } from './ctlUsage';
import { OfflineError, runDirect } from './directCommands';
import { runQueueAdmin } from './queueAdmin';
import { runFlush, runQueued } from './queuedCommands';
import { stderrLine } from './stderrLine';

/**
 * Runs one ctl command line: parses it, runs it, writes one JSON document to `io.out` and any
 * error as one line to `io.err`.
 * @returns the exit code (see `EXIT`); never throws
 */
export async function runCtl(argv: readonly string[], raw: CtlIo, env: ParseEnv): Promise<ExitCode> {
  // Every error line passes here, whatever text from a server or agent it quotes.
  const io: CtlIo = {
    out: (text) => {
      raw.out(text);
    },
    err: (text) => {
      raw.err(stderrLine(text));
    },
  };
  let invocation;
  try {
    invocation = parseCtlArgs(argv, env);
  } catch (e) {
    if (e instanceof CtlUsageError) {
      io.err(`ctl: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  if (invocation.kind === 'help') {
    io.out(CTL_USAGE);
    return EXIT.ok;
  }
  const { command, options } = invocation;
  try {
    switch (command.kind) {
      case 'health':
      case 'list':
      case 'query':
        return await runDirect(command, options, io);
      case 'spawn':
      case 'control':
      case 'action':
      case 'batch':
        return options.queue ? await runQueued(command, options, io) : await runDirect(command, options, io);
      case 'queue_flush':
        return await runFlush(options, io);
      case 'key': {
        const key = loadClientKey(options.dataDir);
        io.out(
          toJson(
            {
              public_key: key.info.publicKey,
              fingerprint: key.info.fingerprint,
              allow_command: key.info.allowCommand,
              key_file: key.path,
            },
            options.pretty,
          ),
        );
        return EXIT.ok;
      }
      case 'queue_list':
      case 'queue_history':
      case 'queue_cancel':
      case 'queue_retry':
      case 'queue_discard':
      case 'queue_dismiss':
        return runQueueAdmin(command, options, io);
      default: {
        const never: never = command;
        return never;
      }
    }
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: CtlIo): ExitCode {
  if (e instanceof OfflineError) {
    io.err(`ctl: ${e.message}\n`);
    return EXIT.offline;
  }
  if (e instanceof QueueLockedError) {
    io.err(
      e.ownerPid > 0 && e.ownerPid !== process.pid
        ? `ctl: the command queue in ${e.dataDir} is owned by another running process (pid ${e.ownerPid}), ` +
            'e.g. an open console; queue through that console, close it, use another --data-dir, or send without --queue\n'
        : `ctl: ${e.message}\n`,
    );
    return EXIT.error;
  }
  if (
    e instanceof QueueError ||
    e instanceof ProfileError ||
    e instanceof RequestError ||
    e instanceof KeyFileError
  ) {
    io.err(`ctl: ${e.message}\n`);
    return EXIT.error;
  }
  io.err(`ctl: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT.error;
}
