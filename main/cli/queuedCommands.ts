/**
 * `ctl --queue` and `ctl queue flush`: this process becomes the owner of the durable queue for
 * a while (like the console does), stores the command, lets the dispatcher deliver it and
 * waits at most `--wait` for the outcome. Whatever is not delivered stays on disk for the
 * next owner.
 */
import type { QueuedCommand } from '../../shared/domain/command';
import { isPending } from '../../shared/domain/command';
import { commandResult, type CommandResult } from '../../shared/domain/result';
import type { ReplyMessage } from '../../shared/protocol';
import type { ServerProfile } from '../../shared/domain/server';
import type { DispatchResult } from '../core/queue/dispatcher';
import { openConsoleCore, type ConsoleCore } from '../core/services/consoleCore';
import type { CtlOptions, MutatingCtlCommand } from './ctlArgs';
import { EXIT, toJson, type ExitCode } from './ctlOutput';
import { failureText, waitOnline } from './directCommands';
import { ctlSecurity, warnIfPlain } from './ctlSecurity';
import { replySucceeded, type CtlIo } from './ctlRequests';
import { reportRepairs } from './queueRepairs';

const POLL_MS = 25;

/**
 * Opens the queue of `--data-dir` with the settings of the command line, and says on stderr
 * what it had to repair on the way (a database moved aside, commands put in quarantine).
 * @throws QueueLockedError and the core's other errors
 */
export function openCore(options: CtlOptions, io: CtlIo): ConsoleCore {
  const core = openConsoleCore({
    dataDir: options.dataDir,
    requestTimeoutMs: options.replyTimeoutMs,
    ...(options.maxPending === null ? {} : { maxPending: options.maxPending }),
  });
  try {
    reportRepairs(core.queue, io);
  } catch {
    // Only a failing store gets here; the run meets (and reports) that failure next, and the
    // repairs stay listed by 'ctl queue list'.
  }
  return core;
}

/** The profile whose endpoint is `endpoint`, or null. */
export function findProfile(profiles: readonly ServerProfile[], endpoint: string): ServerProfile | null {
  return profiles.find((p) => p.endpoint === endpoint.trim()) ?? null;
}

/**
 * Stores `command` for `--server` (adding a profile for it when there is none), waits up to
 * `--wait` for its delivery and prints the CommandResult.
 * @throws QueueFullError, InvalidCommandError (e.g. --expires in the past), QueueLockedError
 */
export async function runQueued(
  command: MutatingCtlCommand,
  options: CtlOptions,
  io: CtlIo,
): Promise<ExitCode> {
  const core = openCore(options, io);
  try {
    const deadline = Date.now() + options.waitMs;
    const stored = findProfile(core.registry.list(), options.server);
    const security = ctlSecurity(options, stored);
    warnIfPlain(security, options, io);
    const profile = stored ?? core.registry.add({ name: options.server, endpoint: options.server, security });
    const session = core.registry.session(profile.id);
    const tap = new ResultTap(core, profile.id);
    try {
      await waitOnline(session.connection, Math.min(options.connectTimeoutMs, options.waitMs));
      const id = await issue(core, profile.id, command, options);
      const ended = await tap.waitEnd(id, deadline);
      const current = ended?.command ?? core.queue.get(id);
      if (current === null) throw new Error(`command ${id} vanished from the queue`);
      const result = commandResult(
        current,
        ended?.reply ?? null,
        `sent, but no reply within --wait ${options.waitMs / 1000} s; the next owner of the queue resends or settles it`,
      );
      await settleInFlight(core, deadline);
      const snap = session.connection.snapshot();
      return report(result, profile, options, io, snap.handshakeProblem === null ? null : snap.lastError);
    } finally {
      tap.stop();
    }
  } finally {
    await core.dispose();
  }
}

/**
 * Delivers what is queued (for `--server`, or for every server), waiting up to `--wait`; prints
 * the commands that were pending with their states now.
 */
export async function runFlush(options: CtlOptions, io: CtlIo): Promise<ExitCode> {
  const core = openCore(options, io);
  try {
    const deadline = Date.now() + options.waitMs;
    let targets: string[];
    if (options.serverGiven) {
      const profile = findProfile(core.registry.list(), options.server);
      targets = profile === null ? [] : [profile.id];
    } else {
      targets = core.queue.serversWithPending();
    }
    const pending = targets.flatMap((id) => core.queue.list(id, ['queued', 'sending'], 10_000));
    const orphans = targets.filter((id) => !core.registry.has(id));
    while (
      Date.now() < deadline &&
      targets.some((id) => core.registry.has(id) && core.queue.pendingCount(id) > 0)
    ) {
      await sleep(POLL_MS);
    }
    await settleInFlight(core, deadline);
    const now = pending.map((c) => core.queue.get(c.id) ?? c);
    const left = now.filter((c) => isPending(c.state)).length;
    io.out(
      toJson(
        { pending: left, commands: now.map((c) => withServer(c, core.registry.list())) },
        options.pretty,
      ),
    );
    if (orphans.length > 0) {
      io.err(
        `ctl: ${orphans.length} server id(s) with queued commands have no profile any more: ${orphans.join(', ')}\n`,
      );
    }
    if (left === 0) return EXIT.ok;
    io.err(
      `ctl: ${left} command(s) still pending after ${options.waitMs / 1000} s; they stay queued in ${core.dataDir}\n`,
    );
    return EXIT.unconfirmed;
  } finally {
    await core.dispose();
  }
}

/** Enqueues through the service and returns the command's id once it is on disk. */
async function issue(
  core: ConsoleCore,
  serverId: string,
  command: MutatingCtlCommand,
  options: CtlOptions,
): Promise<string> {
  const expiresAt = options.expiresInMs === null ? null : Date.now() + options.expiresInMs;
  // The queue announces a command once the fsync covering it is done (group commit), before the
  // dispatcher sends it; this ctl core enqueues nothing else for this server meanwhile.
  let stop = (): void => undefined;
  const enqueued = new Promise<string>((resolve) => {
    stop = core.queue.onChange((change) => {
      if (change.type === 'enqueued' && change.command.serverId === serverId) resolve(change.command.id);
    });
  });
  const issuing = start(core, serverId, command, expiresAt);
  try {
    // `issuing` settles only after the verdict, so a command that was queued is announced first;
    // one that was refused (full, invalid expiry…) rejects with the queue's reason.
    const id = await Promise.race([enqueued, issuing.then(() => null)]);
    if (id === null) throw new Error('the command was not queued');
    // The service's own wait can outlast --wait; its verdict arrives through the tap as well.
    issuing.catch(() => undefined);
    return id;
  } finally {
    stop();
  }
}

function start(
  core: ConsoleCore,
  serverId: string,
  command: MutatingCtlCommand,
  expiresAt: number | null,
): Promise<unknown> {
  const s = core.service;
  switch (command.kind) {
    case 'spawn':
      return s.spawnAgent(serverId, command.config, {
        expiresAt,
        ...(command.timeoutSecs === null ? {} : { timeoutSecs: command.timeoutSecs }),
        ...(command.metadata === null ? {} : { metadata: command.metadata }),
      });
    case 'control':
      return s.controlAgent(serverId, command.agentId, command.commandType, command.payload, { expiresAt });
    case 'action':
      return s.sendActionToAgent(serverId, command.agentId, command.action, command.params, {
        expiresAt,
        ...(command.timeoutSecs === null ? {} : { timeoutSecs: command.timeoutSecs }),
      });
    case 'batch':
      return s.batchControl(serverId, command.agentIds, command.commandType, {
        expiresAt,
        payload: command.payload,
        failFast: command.failFast,
      });
    default: {
      const never: never = command;
      return never;
    }
  }
}

/**
 * Collects the dispatcher's verdicts (with their replies) for one server, so a verdict that
 * comes before anyone waits for it is not lost.
 */
class ResultTap {
  private readonly seen = new Map<string, DispatchResult>();
  private readonly waiters = new Map<string, () => void>();
  private readonly stops: (() => void)[];

  constructor(
    private readonly core: ConsoleCore,
    serverId: string,
  ) {
    this.stops = [
      core.registry.session(serverId).dispatcher.onResult((r) => {
        this.seen.set(r.command.id, r);
        this.waiters.get(r.command.id)?.();
      }),
      core.queue.onChange((change) => {
        if (change.type === 'updated') this.waiters.get(change.command.id)?.();
      }),
    ];
  }

  /**
   * Resolves when command `id` has ended (not queued or sending), with the reply when one
   * came; null when `deadline` passes first.
   */
  waitEnd(
    id: string,
    deadline: number,
  ): Promise<{ command: QueuedCommand; reply: ReplyMessage | null } | null> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const command = this.core.queue.get(id);
        if (command === null || isPending(command.state)) return false;
        const r = this.seen.get(id);
        resolve({ command, reply: r !== undefined && r.command.state === command.state ? r.reply : null });
        return true;
      };
      if (check()) return;
      const timer = setTimeout(
        () => {
          this.waiters.delete(id);
          resolve(null);
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiters.set(id, () => {
        // Looked at once the change's synchronous follow-ups ran: a timed-out command of a
        // dedupe server is requeued for a resend right after it is marked, and is not over.
        setImmediate(() => {
          if (!this.waiters.has(id) || !check()) return;
          clearTimeout(timer);
          this.waiters.delete(id);
        });
      });
    });
  }

  stop(): void {
    for (const s of this.stops) s();
    this.waiters.clear();
  }
}

/**
 * Waits (until `deadline`) for commands on the wire to be answered, so exiting does not leave
 * them for the next owner to resend or report as unknown.
 */
async function settleInFlight(core: ConsoleCore, deadline: number): Promise<void> {
  const onWire = (): number =>
    core.registry
      .list()
      .filter((p) => core.registry.session(p.id).connection.snapshot().state === 'online')
      .reduce((n, p) => n + core.queue.list(p.id, ['sending'], 10_000).length, 0);
  while (Date.now() < deadline && onWire() > 0) await sleep(POLL_MS);
}

function report(
  result: CommandResult<ReplyMessage>,
  profile: ServerProfile,
  options: CtlOptions,
  io: CtlIo,
  /** Why the server refused our handshake, when it did. */
  refusal: string | null,
): ExitCode {
  io.out(toJson({ ...result, command: { ...result.command, server: profile.endpoint } }, options.pretty));
  switch (result.status) {
    case 'done':
      if (replySucceeded(result.reply)) return EXIT.ok;
      io.err(`ctl: ${result.command.summary} failed: ${failureText(result.reply)}\n`);
      return EXIT.error;
    case 'failed':
      io.err(`ctl: ${result.command.summary} failed: ${result.error}\n`);
      return EXIT.error;
    case 'queued':
      io.err(
        `ctl: ${profile.endpoint} did not take it within ${options.waitMs / 1000} s${refusal === null ? '' : ` (${refusal})`}; command ${result.command.id} stays queued in ` +
          `${options.dataDir} and is delivered by the next process that owns the queue (the console, ctl --queue, ctl queue flush)\n`,
      );
      return EXIT.unconfirmed;
    case 'unknown':
      io.err(`ctl: outcome of ${result.command.id} unknown: ${result.reason}\n`);
      return EXIT.unconfirmed;
    default: {
      const never: never = result;
      return never;
    }
  }
}

/** A command as printed: with the endpoint of its server (null when its profile is gone). */
export function withServer(
  command: QueuedCommand,
  profiles: readonly ServerProfile[],
): QueuedCommand & { server: string | null } {
  return { ...command, server: profiles.find((p) => p.id === command.serverId)?.endpoint ?? null };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
