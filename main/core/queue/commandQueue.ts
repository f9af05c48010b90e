/**
 * The durable command queue (docs/ARCHITECTURE.md §3): the lifecycle state machine over a
 * `CommandStore`. The network side (Dispatcher, Connection) drives it through
 * `nextToSend` → `markSending` → `settle` / `markTimedOut` (or, batched, `sendNext` and
 * `settleAndSendNext`), and `recoverAfterRestart` after a reconnect or a restart.
 *
 * Pending commands (queued or sending) are mirrored in memory per server, so the limit, the
 * window and FIFO checks cost no database round trip. One process owns the data directory
 * (the store enforces it), which is what makes the mirror authoritative. The mirror is updated
 * after the store's write has committed, with one exception: a write-behind sending mark
 * (`sendNext({ writeBehind: true })`, dedupe servers only) is in memory first and written
 * within `syncLagMs`.
 *
 * Every method except `enqueue` is synchronous; each write is durable (committed and fsync'd)
 * when it returns, except those a caller makes with `durable: false` or `writeBehind` (allowed
 * only where a lost write is recovered by a resend the server answers from its dedupe cache),
 * which the queue makes durable within `syncLagMs`. Methods throw the `QueueError` subclasses
 * named in their docs, and `QueueClosedError` after `close()`.
 */
import { randomUUID } from 'node:crypto';
import { ProtocolError, REPLY_TYPE } from '../../../shared/protocol';
import type { RequestMessage } from '../../../shared/protocol';
import {
  UUID_V4_PATTERN,
  assertNever,
  canTransition,
  summarizeRequest,
} from '../../../shared/domain/command';
import type {
  CommandChange,
  CommandOutcome,
  CommandState,
  QueuedCommand,
  SettleOutcome,
} from '../../../shared/domain/command';
import { withPatch } from './commandStore';
import type { CommandPatch, CommandStore, HistoryCursor, StoreRepairs } from './commandStore';
import type { QuarantinedCommand, QueueHealth } from '../../../shared/domain/quarantine';
import {
  CommandNotFoundError,
  DiskFullError,
  DuplicateCommandError,
  InvalidCommandError,
  InvalidTransitionError,
  OutOfOrderError,
  QueueClosedError,
  QueueFullError,
} from './queueErrors';
import { Fifo } from './fifo';
import { CACHE_LOST_REASON, mayResend, notResent, RESEND_WINDOW_PASSED_REASON } from './resendPolicy';

/** Default limit of pending (queued + sending) commands per server. */
export const DEFAULT_MAX_PENDING = 1000;

export interface CommandQueueOptions {
  /** Pending (queued + sending) commands allowed per server; default 1000. */
  readonly maxPending?: number;
  /** Clock in ms since the epoch; injectable for tests of expiry. */
  readonly now?: () => number;
  /** Makes request ids for retries that need a fresh one; UUID v4 text. */
  readonly newId?: () => string;
  /** Receives errors thrown by change listeners (which never break the queue); default console.error. */
  readonly onListenerError?: (error: unknown) => void;
  /**
   * Longest time, ms, a write made with `durable: false` may wait before the queue makes it
   * durable (one fsync for all of them); default 100. Bounds what a power cut can take back.
   */
  readonly syncLagMs?: number;
  /** Receives a failure of that background sync; default console.error. */
  readonly onSyncError?: (error: unknown) => void;
}

export interface EnqueueOptions {
  /** Do not send after this time (ms since the epoch); must be in the future. */
  readonly expiresAt?: number | null;
  /** The human summary; derived from the request when left out. */
  readonly summary?: string;
}

export interface RetryOptions {
  /** A new deadline for the retried command (ms since the epoch); none when left out. */
  readonly expiresAt?: number | null;
}

export interface HistoryOptions {
  /** At most this many commands (1–10 000); default 100. */
  readonly limit?: number;
  /** Continue after this item: pass the last item's `{settledAt, seq}` of the previous page. */
  readonly before?: HistoryCursor;
  readonly serverId?: string;
}

/** The pending commands of one server, in issue order. */
interface Lane {
  /** Sorted by `seq`; the head is the next to send. */
  readonly queued: Fifo<QueuedCommand>;
  readonly sending: Map<string, QueuedCommand>;
  /**
   * A lower bound of the earliest `expiresAt` among queued commands, or null when none has
   * one: lets `expireLane` (run before every send) skip scanning a long queue when nothing
   * can be due, which kept a 10,000-command drain quadratic.
   */
  nextExpiry: number | null;
  /**
   * The recorded send frontier (`CommandStore.setSendFrontier`): no command above this seq has
   * been handed out with a write-behind mark. Null when none is recorded.
   */
  frontier: number | null;
}

/**
 * How far past the last command handed out a recorded send frontier reaches: one durable
 * write covers this many write-behind sends, and after a crash at most this many never-sent
 * commands are counted as possibly sent.
 */
const FRONTIER_RESERVE = 256;

const MAX_PAGE = 10_000;

/** One command to settle and the outcome to settle it with. */
export interface SettleItem {
  readonly id: string;
  readonly outcome: SettleOutcome;
}

/** Commands with the patch each will get, before anything is written. */
interface PreparedChanges {
  readonly commands: readonly QueuedCommand[];
  readonly patches: readonly CommandPatch[];
}

export class CommandQueue {
  private readonly lanes = new Map<string, Lane>();
  /**
   * The recorded dedupe epoch by server, read from the store once: the dispatcher asks on every
   * pump, and this queue is the store's only writer.
   */
  private readonly epochs = new Map<string, string | null>();
  /** Every queued or sending command by id (the same objects as in the lanes). */
  private readonly pendingById = new Map<string, QueuedCommand>();
  private readonly listeners = new Set<(change: CommandChange) => void>();
  private readonly maxPending: number;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly onListenerError: (error: unknown) => void;
  private readonly syncLagMs: number;
  private readonly onSyncError: (error: unknown) => void;
  private syncTimer: ReturnType<typeof setTimeout> | null = null;
  /** Sending marks made in memory and not yet written (see `sendNext`'s `writeBehind`), by id. */
  private readonly writeBehind = new Map<string, { current: QueuedCommand; patch: CommandPatch }>();
  private closed = false;

  /**
   * Loads every pending command from `store`. Commands left in `sending` by a previous
   * process stay there until `recoverAfterRestart` is called for their server (the Dispatcher
   * does so once it knows whether the server dedupes).
   * @throws RangeError when `maxPending` is not a positive integer
   */
  constructor(
    private readonly store: CommandStore,
    options: CommandQueueOptions = {},
  ) {
    const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
      throw new RangeError(`maxPending must be a positive integer, got ${String(maxPending)}`);
    }
    this.maxPending = maxPending;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? randomUUID;
    this.onListenerError =
      options.onListenerError ??
      ((error) => {
        console.error('command queue listener failed', error);
      });
    this.syncLagMs = options.syncLagMs ?? 100;
    if (!Number.isFinite(this.syncLagMs) || this.syncLagMs < 0) {
      throw new RangeError(`syncLagMs must be a non-negative number, got ${String(options.syncLagMs)}`);
    }
    this.onSyncError =
      options.onSyncError ??
      ((error) => {
        console.error('command queue: making recent writes durable failed', error);
      });
    for (const command of this.pendingAfterCrash(store)) {
      const lane = this.lane(command.serverId);
      if (command.state === 'sending') lane.sending.set(command.id, command);
      else pushQueued(lane, command);
      this.pendingById.set(command.id, command);
    }
  }

  /**
   * The pending commands, after turning those a dead process may have sent into `sending`:
   * a `queued` command at or below its server's recorded send frontier may have left with a
   * write-behind mark that never reached the disk. Counting it as sent (one more attempt) lets
   * recovery resend it with the same request_id, and keeps expiry, cancel and retry from
   * treating it as never sent. The frontiers are then cleared, in the same transaction.
   */
  private pendingAfterCrash(store: CommandStore): QueuedCommand[] {
    const pending = store.loadPending();
    const frontiers = store.sendFrontiers();
    if (frontiers.size === 0) return pending;
    const now = this.now();
    return store.transaction(() => {
      const out = pending.map((command) => {
        const frontier = frontiers.get(command.serverId);
        if (command.state !== 'queued' || frontier === undefined || command.seq > frontier) return command;
        return store.update(command.id, { ...sendingPatch(command, now), sentAt: null }, command);
      });
      for (const serverId of frontiers.keys()) store.setSendFrontier(serverId, null);
      return out;
    });
  }

  /**
   * Stores a command for `serverId`. Resolves only once it is on disk (committed and fsync'd).
   * The command's id is `request.request_id`, which must be fresh UUID v4 text.
   *
   * @param expiresAt (in options) ms since the epoch after which it is never sent
   * @throws (rejects with) QueueFullError when the server already has `maxPending` pending
   *   commands; InvalidCommandError for an empty server id, an unknown request type, a
   *   request_id that is not lowercase UUID v4 text, an expiry not in the future, or a request
   *   the codec refuses; DuplicateCommandError when the request_id was used before;
   *   DiskFullError when the disk is full (the command was not stored; the message says how
   *   many queued commands are kept)
   */
  enqueue(serverId: string, request: RequestMessage, options: EnqueueOptions = {}): Promise<QueuedCommand> {
    try {
      return Promise.resolve(this.enqueueNow(serverId, request, options));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** `enqueue` without the promise: the insert is synchronous and durable on return. */
  private enqueueNow(serverId: string, request: RequestMessage, options: EnqueueOptions): QueuedCommand {
    this.assertOpen('enqueue a command');
    if (typeof serverId !== 'string' || serverId.length === 0) {
      throw new InvalidCommandError('serverId must be a non-empty string.');
    }
    const requestType: unknown = (request as { type?: unknown }).type;
    if (typeof requestType !== 'string' || !Object.hasOwn(REPLY_TYPE, requestType)) {
      throw new InvalidCommandError(
        `Only request messages can be queued, got type ${JSON.stringify(requestType)}.`,
      );
    }
    const id: unknown = (request as { request_id?: unknown }).request_id;
    if (typeof id !== 'string' || !UUID_V4_PATTERN.test(id)) {
      throw new InvalidCommandError(
        `request_id must be a UUID v4 in lowercase hyphenated text, got ${JSON.stringify(id)}.`,
      );
    }
    const now = this.now();
    const expiresAt = this.checkExpiry(options.expiresAt, now);
    const pending = this.pendingCount(serverId);
    if (pending >= this.maxPending) throw new QueueFullError(serverId, this.maxPending, pending);
    let command: QueuedCommand;
    const summary = options.summary ?? summarizeRequest(request);
    try {
      command = this.insertQueued(serverId, request, now, expiresAt, summary, null);
    } catch (error) {
      if (error instanceof DuplicateCommandError || error instanceof QueueClosedError) throw error;
      if (error instanceof DiskFullError) {
        // What the operator needs: this one is not queued, and the rest is safe.
        throw new DiskFullError(
          `The disk is full${error.directory === null ? '' : ` (${error.directory})`}: the command was not queued (${summary}). ` +
            `The ${this.pendingById.size} command(s) already queued are kept and will still be sent, and the history is kept. ` +
            'Free some disk space and try again.',
          { cause: error, ...(error.directory === null ? {} : { directory: error.directory }) },
        );
      }
      if (error instanceof ProtocolError) {
        throw new InvalidCommandError(`The ${request.type} cannot be encoded: ${error.message}`);
      }
      throw error;
    }
    return command;
  }

  /**
   * The commands the Dispatcher may send now for `serverId`: the oldest queued ones, at most
   * `window` minus those already `sending`. Expires due commands of that server first, so an
   * expired command is never handed out. Does not change the returned commands' state: call
   * `markSending` for each, in the returned order.
   * @param window in-flight limit (≥ 1) for this server
   * @throws RangeError when `window` is not a positive integer
   */
  nextToSend(serverId: string, window: number): QueuedCommand[] {
    this.assertOpen('pick commands to send');
    if (!Number.isSafeInteger(window) || window < 1) {
      throw new RangeError(`window must be a positive integer, got ${String(window)}`);
    }
    this.expireLane(serverId, this.now());
    const lane = this.lanes.get(serverId);
    if (lane === undefined) return [];
    const free = window - lane.sending.size;
    return free > 0 ? lane.queued.peek(free) : [];
  }

  /**
   * Records that the command is being handed to the connection: `queued → sending`,
   * `attempts + 1`, `sentAt = now`.
   * @throws CommandNotFoundError; InvalidTransitionError when it is not queued or its expiry
   *   has passed (it is then marked expired); OutOfOrderError when an older command of the
   *   same server is still queued
   */
  markSending(id: string): QueuedCommand {
    this.assertOpen('mark a command as sending');
    const command = this.find(id);
    if (command.state !== 'queued') throw new InvalidTransitionError(id, command.state, 'send');
    const lane = this.lane(command.serverId);
    const head = lane.queued.at(0);
    if (head !== undefined && head.id !== id) throw new OutOfOrderError(id, head.id, command.serverId);
    const now = this.now();
    if (command.expiresAt !== null && command.expiresAt <= now) {
      this.expireLane(command.serverId, now);
      throw new InvalidTransitionError(id, 'expired', 'send', 'Its expiry passed before it could be sent.');
    }
    return this.apply(command, sendingPatch(command, now));
  }

  /**
   * `nextToSend` + `markSending` for all of them in ONE transaction (one fsync for a whole
   * window instead of one per command). Returns the commands now `sending`, in FIFO order.
   * @param window in-flight limit (≥ 1) for this server
   * @param options.durable false for a server that deduplicates by request_id: losing the
   *   `sending` mark in a power cut only means a resend the server answers from its cache, so
   *   it need not wait for the disk. Keep the default (true) for servers without dedupe, where
   *   the mark is what stops a second send.
   * @param options.writeBehind true (dedupe servers only, for the same reason): the marks are
   *   made in memory now and written within `syncLagMs` (and before `list` reads), so a command
   *   answered sooner is written once, settled, instead of twice.
   * @throws RangeError when `window` is not a positive integer
   */
  sendNext(
    serverId: string,
    window: number,
    options: { readonly durable?: boolean; readonly writeBehind?: boolean } = {},
  ): QueuedCommand[] {
    const next = this.prepareSend(serverId, window);
    if (next.commands.length === 0) return [];
    if (options.writeBehind !== true)
      return this.applyMany(next.commands, next.patches, options.durable ?? true);
    this.coverBySendFrontier(serverId, next.commands);
    const updated = next.commands.map((command, i) => {
      const patch = next.patches[i] as CommandPatch;
      this.writeBehind.set(command.id, { current: command, patch });
      return withPatch(command, patch);
    });
    this.scheduleSync();
    this.settleMirror(next.commands, updated);
    return updated;
  }

  /**
   * Before commands leave with write-behind marks: makes sure the recorded send frontier of
   * their server covers them, moving it (durably) FRONTIER_RESERVE commands further when not.
   */
  private coverBySendFrontier(serverId: string, commands: readonly QueuedCommand[]): void {
    const lane = this.lane(serverId);
    const last = commands[commands.length - 1];
    if (last === undefined || (lane.frontier !== null && lane.frontier >= last.seq)) return;
    const reach = lane.queued.at(Math.min(lane.queued.length - 1, commands.length - 1 + FRONTIER_RESERVE));
    const frontier = Math.max(last.seq, reach?.seq ?? last.seq);
    this.store.setSendFrontier(serverId, frontier);
    lane.frontier = frontier;
  }

  /** Writes the sending marks held back by `sendNext({ writeBehind: true })`, not durably. */
  private flushWriteBehind(): void {
    if (this.writeBehind.size === 0) return;
    const held = new Map(this.writeBehind);
    try {
      this.store.transaction(
        () => {
          this.writeHeldMarks();
        },
        { durable: false },
      );
    } catch (error) {
      this.restoreHeld(held);
      throw error;
    }
  }

  /** After a rolled-back transaction: the marks it was to write are still owed. */
  private restoreHeld(held: ReadonlyMap<string, { current: QueuedCommand; patch: CommandPatch }>): void {
    for (const [id, mark] of held) {
      if (this.pendingById.get(id)?.state === 'sending') this.writeBehind.set(id, mark);
    }
  }

  /** Inside a transaction: writes the held-back marks and forgets them. */
  private writeHeldMarks(): void {
    for (const [id, { current, patch }] of this.writeBehind) this.store.update(id, patch, current);
    this.writeBehind.clear();
  }

  /** The window's next commands and their `sending` patches (nothing written yet). */
  private prepareSend(serverId: string, window: number): PreparedChanges {
    const commands = this.nextToSend(serverId, window);
    const now = this.now();
    return { commands, patches: commands.map((command) => sendingPatch(command, now)) };
  }

  /**
   * Like `settle` for several commands in ONE transaction (group commit of replies that
   * arrive together). Items whose command is no longer `sending` or `timed_out` (e.g.
   * cancelled meanwhile) are skipped rather than failing the others.
   * @returns the settled commands
   */
  settleMany(items: readonly SettleItem[], options: { readonly durable?: boolean } = {}): QueuedCommand[] {
    this.assertOpen('settle commands');
    const settle = this.prepareSettle(items);
    return settle.commands.length === 0
      ? []
      : this.applyMany(settle.commands, settle.patches, options.durable ?? true);
  }

  /**
   * One step of a dispatcher, in ONE transaction: settles `items` (as `settleMany`) and marks
   * the server's next commands as sending (as `sendNext`, the settled ones no longer counting
   * against `window`). Announces the settles first.
   * @param window in-flight limit for `serverId`; 0 settles only
   * @param options.durable false only for a server that deduplicates by request_id: a lost
   *   settle or mark then means a resend that the server answers from its cache. The queue
   *   makes such writes durable within `syncLagMs`.
   * @throws RangeError when `window` is not a non-negative integer
   */
  settleAndSendNext(
    serverId: string,
    items: readonly SettleItem[],
    window: number,
    options: { readonly durable?: boolean } = {},
  ): { settled: QueuedCommand[]; sending: QueuedCommand[] } {
    this.assertOpen('settle and send commands');
    if (!Number.isSafeInteger(window) || window < 0) {
      throw new RangeError(`window must be a non-negative integer, got ${String(window)}`);
    }
    const settle = this.prepareSettle(items);
    // Settled commands still count as sending in their lane until this step commits.
    const freed = settle.commands.filter((c) => c.state === 'sending' && c.serverId === serverId).length;
    const send = window > 0 ? this.prepareSend(serverId, window + freed) : { commands: [], patches: [] };
    if (settle.commands.length + send.commands.length === 0) return { settled: [], sending: [] };
    const updated = this.applyMany(
      [...settle.commands, ...send.commands],
      [...settle.patches, ...send.patches],
      options.durable ?? true,
    );
    return {
      settled: updated.slice(0, settle.commands.length),
      sending: updated.slice(settle.commands.length),
    };
  }

  /** The settle patches of the items whose command can still be settled (nothing written yet). */
  private prepareSettle(items: readonly SettleItem[]): PreparedChanges {
    const now = this.now();
    const commands: QueuedCommand[] = [];
    const patches: CommandPatch[] = [];
    const seen = new Set<string>();
    for (const { id, outcome } of items) {
      if (seen.has(id)) continue;
      const command = this.findPending(id) ?? this.store.get(id);
      if (command === null || (command.state !== 'sending' && command.state !== 'timed_out')) continue;
      seen.add(id);
      commands.push(command);
      patches.push(settlePatch(command, outcome, now));
    }
    return { commands, patches };
  }

  /**
   * Ends a command with the server's reply (or a local send error): `succeeded` when the
   * outcome is a successful reply, `failed` otherwise. Accepted from `sending`, and from
   * `timed_out` (a late or deduplicated reply resolves the unknown outcome).
   * @throws CommandNotFoundError; InvalidTransitionError from any other state
   */
  settle(id: string, outcome: SettleOutcome): QueuedCommand {
    this.assertOpen('settle a command');
    const command = this.find(id);
    const state: CommandState = outcome.kind === 'reply' && outcome.success ? 'succeeded' : 'failed';
    if (command.state !== 'sending' && command.state !== 'timed_out') {
      throw new InvalidTransitionError(id, command.state, `mark as ${state}`);
    }
    return this.apply(command, settlePatch(command, outcome, this.now()));
  }

  /**
   * No reply in time: `sending → timed_out`, outcome unknown (not failed).
   * @param reason shown to the operator; defaults to a timeout message
   * @throws CommandNotFoundError; InvalidTransitionError when it is not sending
   */
  markTimedOut(id: string, reason = 'no reply within the timeout'): QueuedCommand {
    this.assertOpen('mark a command as timed out');
    const command = this.find(id);
    if (command.state !== 'sending') throw new InvalidTransitionError(id, command.state, 'time out');
    const now = this.now();
    return this.apply(command, {
      ...this.keep(command),
      state: 'timed_out',
      updatedAt: now,
      settledAt: now,
      outcome: { kind: 'unknown', reason },
    });
  }

  /**
   * Marks every queued command whose `expiresAt` ≤ `now` as expired (never sent), in one
   * transaction. Commands already `sending` are not affected.
   * @param now ms since the epoch; the queue's clock when left out
   * @returns the expired commands
   */
  expireDue(now: number = this.now()): QueuedCommand[] {
    this.assertOpen('expire commands');
    const expired: QueuedCommand[] = [];
    for (const serverId of [...this.lanes.keys()]) expired.push(...this.expireLane(serverId, now));
    return expired;
  }

  /**
   * Withdraws a command that is queued (it will not be sent) or timed out (the operator gives
   * up on the unknown outcome).
   * @throws CommandNotFoundError; InvalidTransitionError in any other state (a `sending`
   *   command is on the wire and cannot be called back)
   */
  cancel(id: string, reason = 'cancelled by the operator'): QueuedCommand {
    this.assertOpen('cancel a command');
    const command = this.find(id);
    if (command.state !== 'queued' && command.state !== 'timed_out') {
      const hint =
        command.state === 'sending'
          ? 'It is already on its way to the server; wait for its reply or timeout.'
          : 'It has already ended.';
      throw new InvalidTransitionError(id, command.state, 'cancel', hint);
    }
    const now = this.now();
    return this.apply(command, {
      ...this.keep(command),
      state: 'cancelled',
      updatedAt: now,
      settledAt: now,
      outcome: { kind: 'cancelled', reason },
    });
  }

  /**
   * Queues an ended command again, at the END of its server's FIFO (a retry is a new decision
   * by the operator, so it is ordered after everything issued before it).
   *
   * - Outcome unknown (`timed_out`, or `expired` / `cancelled` after it had been sent): the
   *   SAME command goes back to `queued` with the same `request_id`, so a dedupe server answers
   *   from its cache instead of running it twice.
   * - `failed`, or `expired` / `cancelled` before it was ever sent: a NEW command with a fresh
   *   `request_id` and `retryOf` = the old id; the old one stays in the history unchanged (a
   *   dedupe server would only replay the cached failure for the old id).
   *
   * @returns the queued command (the same id or the new one)
   * @throws CommandNotFoundError; InvalidTransitionError for queued, sending or succeeded
   *   commands; QueueFullError when the server's queue is full; InvalidCommandError for an
   *   expiry not in the future
   */
  retry(id: string, options: RetryOptions = {}): QueuedCommand {
    this.assertOpen('retry a command');
    const command = this.find(id);
    switch (command.state) {
      case 'queued':
      case 'sending':
        throw new InvalidTransitionError(id, command.state, 'retry', 'It is still pending.');
      case 'succeeded':
        throw new InvalidTransitionError(id, command.state, 'retry', 'Issue a new command to run it again.');
      case 'failed':
      case 'timed_out':
      case 'expired':
      case 'cancelled':
        break;
      default:
        return assertNever(command.state);
    }
    const now = this.now();
    const expiresAt = this.checkExpiry(options.expiresAt, now);
    const pending = this.pendingCount(command.serverId);
    if (pending >= this.maxPending) throw new QueueFullError(command.serverId, this.maxPending, pending);
    const outcomeUnknown = command.state !== 'failed' && command.attempts > 0;
    if (outcomeUnknown) {
      return this.apply(command, {
        ...this.keep(command),
        state: 'queued',
        updatedAt: now,
        settledAt: null,
        expiresAt,
        outcome: null,
        moveToEnd: true,
      });
    }
    const request: RequestMessage = { ...command.request, request_id: this.newId() };
    return this.insertQueued(command.serverId, request, now, expiresAt, command.summary, command.id);
  }

  /**
   * After a reconnect or a restart: every command of `serverId` still `sending` (sent, never
   * answered) is, in one transaction,
   * - with `dedupe`: put back in `queued` at its ORIGINAL position (same `request_id`), so it is
   *   resent first and the server answers a repeat from its cache;
   * - without: marked `timed_out` (outcome unknown) and never resent automatically.
   * @returns the commands changed
   */
  recoverAfterRestart(serverId: string, options: { readonly dedupe: boolean }): QueuedCommand[] {
    this.assertOpen('recover unanswered commands');
    const lane = this.lanes.get(serverId);
    if (lane === undefined || lane.sending.size === 0) return [];
    const now = this.now();
    const targets = [...lane.sending.values()].sort((a, b) => a.seq - b.seq);
    const outcome: CommandOutcome = {
      kind: 'unknown',
      reason:
        'sent, but the connection was lost or the console restarted before a reply; ' +
        'the server does not deduplicate requests, so it was not resent automatically',
    };
    const patches = targets.map((command): CommandPatch => {
      if (options.dedupe && mayResend(command, now)) {
        return { ...this.keep(command), state: 'queued', updatedAt: now };
      }
      const why = options.dedupe ? notResent(RESEND_WINDOW_PASSED_REASON) : outcome;
      return { ...this.keep(command), state: 'timed_out', updatedAt: now, settledAt: now, outcome: why };
    });
    return this.applyMany(targets, patches);
  }

  /**
   * Whether the dispatcher may resend this command by itself with its `request_id`, by the
   * queue's clock (see `resendPolicy.ts`: not marked "never resend", last sent within 15 min).
   */
  mayResend(command: QueuedCommand): boolean {
    return mayResend(command, this.now());
  }

  /**
   * Records the dedupe epoch a server reports (health metadata `dedupe_epoch`). The first one
   * seen is just recorded. A different one means the server lost (part of) its record of
   * answered requests, so resending what it may have run could run it twice: in one
   * transaction, every command of that server still `sending` becomes `timed_out` and every
   * `timed_out` one stays so, both with an unknown outcome that is never resent automatically,
   * and the new epoch is recorded. A late reply still settles them.
   * @returns the commands changed (none when the epoch is the recorded one)
   * @throws StoreFailureError when the disk refuses (nothing is changed then)
   */
  noteDedupeEpoch(serverId: string, epoch: string): QueuedCommand[] {
    this.assertOpen('record a dedupe epoch');
    let known = this.epochs.get(serverId);
    if (known === undefined) {
      known = this.store.dedupeEpoch(serverId);
      this.epochs.set(serverId, known);
    }
    if (known === epoch) return [];
    if (known === null) {
      this.store.setDedupeEpoch(serverId, epoch);
      this.epochs.set(serverId, epoch);
      return [];
    }
    const now = this.now();
    const lane = this.lanes.get(serverId);
    const sending = lane === undefined ? [] : [...lane.sending.values()].sort((a, b) => a.seq - b.seq);
    // Only those the dispatcher could still resend need the mark; the rest never go out again.
    const timedOut = this.store
      .list({ serverId, states: ['timed_out'], limit: 2_147_483_647 })
      .filter((c) => mayResend(c, now));
    const lost = notResent(CACHE_LOST_REASON);
    const [sent, marked] = this.store.transaction(() => {
      const a = sending.map((c) =>
        this.store.update(
          c.id,
          { ...this.keep(c), state: 'timed_out', updatedAt: now, settledAt: now, outcome: lost },
          c,
        ),
      );
      const b = timedOut.map((c) =>
        this.store.update(c.id, { ...this.keep(c), updatedAt: now, outcome: lost }, c),
      );
      this.store.setDedupeEpoch(serverId, epoch);
      return [a, b] as const;
    });
    this.epochs.set(serverId, epoch);
    for (const c of sending) this.writeBehind.delete(c.id);
    this.settleMirror(sending, sent);
    marked.forEach((command) => {
      this.emit({ type: 'updated', command, previous: 'timed_out' });
    });
    return [...sent, ...marked];
  }

  /**
   * A send that never left this process (the connection refused it: offline, closed, or its
   * writer was full): `sending → queued` at its ORIGINAL position, attempt not counted, so it
   * goes out first once the server can take it. Unlike `recoverAfterRestart`, touches only this
   * command: others of the lane may really be on the wire.
   * @throws CommandNotFoundError; InvalidTransitionError when it is not sending
   */
  requeueUnsent(id: string): QueuedCommand {
    this.assertOpen('requeue a command');
    const command = this.find(id);
    if (command.state !== 'sending') throw new InvalidTransitionError(id, command.state, 'requeue');
    return this.apply(command, {
      ...this.keep(command),
      state: 'queued',
      updatedAt: this.now(),
      attempts: Math.max(0, command.attempts - 1),
    });
  }

  /**
   * The command with this id (pending or settled), or null.
   */
  get(id: string): QueuedCommand | null {
    this.assertOpen('read a command');
    return this.findPending(id) ?? this.store.get(id);
  }

  /**
   * Commands in issue order, optionally of one server and/or in some states.
   * @param limit at most this many (1–10 000); default 1000
   */
  list(serverId?: string, states?: readonly CommandState[], limit = 1000): QueuedCommand[] {
    this.assertOpen('list commands');
    this.flushWriteBehind();
    return this.store.list({ serverId, states, limit: checkLimit(limit) });
  }

  /**
   * Ended commands (succeeded, failed, timed out, expired, cancelled), newest first: the
   * operator's audit log. Page with `before` = the last item's `{settledAt, seq}`.
   * @throws RangeError when `limit` is outside 1–10 000
   */
  history(options: HistoryOptions = {}): QueuedCommand[] {
    this.assertOpen('read the history');
    return this.store.history({
      serverId: options.serverId,
      before: options.before,
      limit: checkLimit(options.limit ?? 100),
    });
  }

  /** Queued + sending commands of `serverId` (what counts toward `maxPending`). */
  pendingCount(serverId: string): number {
    const lane = this.lanes.get(serverId);
    return lane === undefined ? 0 : lane.queued.length + lane.sending.size;
  }

  /** Servers with at least one queued or sending command (e.g. to connect to at start). */
  serversWithPending(): string[] {
    return [...this.lanes.entries()]
      .filter(([, lane]) => lane.queued.length + lane.sending.size > 0)
      .map(([serverId]) => serverId);
  }

  /**
   * Commands that could not be read and were set aside (kept, never sent), and the notices about
   * repairs the queue made when it opened; of one server (by stored server id) when given.
   */
  health(serverId?: string): QueueHealth {
    this.assertOpen('read the quarantine');
    return { quarantined: this.store.quarantined(serverId), notices: this.store.notices() };
  }

  /**
   * Deletes a quarantined command for good (by entry number, or by the request id it holds).
   * It was never sent and never will be.
   * @throws QuarantineEntryNotFoundError when nothing matches
   */
  discardQuarantined(key: number | string): QuarantinedCommand {
    this.assertOpen('discard a quarantined command');
    return this.store.discardQuarantined(key);
  }

  /** Deletes a notice the operator has read. @returns false when there is no notice with this id */
  dismissNotice(id: number): boolean {
    this.assertOpen('dismiss a queue notice');
    return this.store.dismissNotice(id);
  }

  /** What the store repaired since it was opened: files moved aside, quarantine entries made. */
  get repairs(): StoreRepairs {
    return this.store.repairs;
  }

  /**
   * Calls `listener` after every change, once it is committed (durable unless the caller asked
   * for `durable: false`), or, for a write-behind sending mark, once it is made in memory.
   * Listeners run synchronously; an error they throw goes to `onListenerError` and does not
   * affect the queue.
   * @returns a function that removes the listener
   */
  onChange(listener: (change: CommandChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Makes every write durable now, including those made with `durable: false` (which the queue
   * otherwise syncs within `syncLagMs`).
   * @throws StoreFailureError when the disk refuses
   */
  sync(): void {
    this.assertOpen('sync the queue');
    this.clearSyncTimer();
    this.flushWriteBehind();
    this.store.sync();
  }

  /** Makes every write durable, closes the store and drops listeners. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearSyncTimer();
    this.listeners.clear();
    try {
      try {
        this.flushWriteBehind();
        // Every mark is on disk now: nothing was sent beyond what the rows say.
        for (const [serverId, lane] of this.lanes) {
          if (lane.frontier !== null) this.store.setSendFrontier(serverId, null);
        }
      } finally {
        this.store.sync();
      }
    } finally {
      this.lanes.clear();
      this.pendingById.clear();
      this.writeBehind.clear();
      this.store.close();
    }
  }

  private scheduleSync(delayMs = this.syncLagMs): void {
    if (this.syncTimer !== null) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      if (this.closed) return;
      try {
        this.flushWriteBehind();
      } catch (error) {
        // The marks are still held (restored): try again, less and less often.
        this.onSyncError(error);
        this.scheduleSync(Math.min(60_000, Math.max(delayMs, 50) * 2));
        return;
      }
      // The fsync itself runs off this thread: it can take milliseconds after a busy spell.
      // A failed fsync poisons the store (every later write is refused), so no retry here.
      this.store.syncInBackground().catch((error: unknown) => {
        this.onSyncError(error);
      });
    }, delayMs);
    // A pending sync must not keep the process alive; close() syncs on the way out.
    this.syncTimer.unref();
  }

  private clearSyncTimer(): void {
    if (this.syncTimer === null) return;
    clearTimeout(this.syncTimer);
    this.syncTimer = null;
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new QueueClosedError(operation);
  }

  private lane(serverId: string): Lane {
    let lane = this.lanes.get(serverId);
    if (lane === undefined) {
      lane = { queued: new Fifo(), sending: new Map(), nextExpiry: null, frontier: null };
      this.lanes.set(serverId, lane);
    }
    return lane;
  }

  private findPending(id: string): QueuedCommand | null {
    return this.pendingById.get(id) ?? null;
  }

  private find(id: string): QueuedCommand {
    const command = this.findPending(id) ?? this.store.get(id);
    if (command === null) throw new CommandNotFoundError(id);
    return command;
  }

  /** The patch that leaves every field as it is (spread, then override what changes). */
  private keep(command: QueuedCommand): CommandPatch {
    return {
      state: command.state,
      updatedAt: command.updatedAt,
      sentAt: command.sentAt,
      settledAt: command.settledAt,
      attempts: command.attempts,
      expiresAt: command.expiresAt,
      outcome: command.outcome,
    };
  }

  private checkExpiry(expiresAt: number | null | undefined, now: number): number | null {
    if (expiresAt === undefined || expiresAt === null) return null;
    if (!Number.isSafeInteger(expiresAt)) {
      throw new InvalidCommandError(
        `expiresAt must be whole milliseconds since the epoch, got ${String(expiresAt)}.`,
      );
    }
    if (expiresAt <= now) {
      throw new InvalidCommandError(
        `expiresAt ${new Date(expiresAt).toISOString()} is not in the future (now ${new Date(now).toISOString()}).`,
      );
    }
    return expiresAt;
  }

  private expireLane(serverId: string, now: number): QueuedCommand[] {
    const lane = this.lanes.get(serverId);
    if (lane === undefined || lane.nextExpiry === null || lane.nextExpiry > now) return [];
    const due = [...lane.queued].filter((c) => c.expiresAt !== null && c.expiresAt <= now);
    if (due.length === 0) {
      lane.nextExpiry = null;
      for (const c of lane.queued) noteExpiry(lane, c);
      return [];
    }
    // If the write fails, the bound stays low and the due commands are expired next time.
    const expired = this.applyMany(
      due,
      due.map((command) => ({
        ...this.keep(command),
        state: 'expired' as const,
        updatedAt: now,
        settledAt: now,
        outcome: { kind: 'expired' as const, expiresAt: command.expiresAt ?? now },
      })),
    );
    lane.nextExpiry = null;
    for (const c of lane.queued) noteExpiry(lane, c);
    return expired;
  }

  /** Stores a new queued command (id = its request_id), then mirrors and announces it. */
  private insertQueued(
    serverId: string,
    request: RequestMessage,
    now: number,
    expiresAt: number | null,
    summary: string,
    retryOf: string | null,
  ): QueuedCommand {
    const command = this.store.insert({
      id: request.request_id,
      serverId,
      kind: request.type,
      request,
      state: 'queued',
      createdAt: now,
      updatedAt: now,
      sentAt: null,
      settledAt: null,
      attempts: 0,
      expiresAt,
      outcome: null,
      summary,
      retryOf,
    });
    pushQueued(this.lane(serverId), command);
    this.pendingById.set(command.id, command);
    this.emit({ type: 'enqueued', command });
    return command;
  }

  /** Checks, writes, then mirrors and announces one change. */
  private apply(command: QueuedCommand, patch: CommandPatch): QueuedCommand {
    if (!canTransition(command.state, patch.state)) {
      throw new InvalidTransitionError(command.id, command.state, `move to ${patch.state}`);
    }
    const updated = this.store.update(command.id, patch, command);
    // Every patch writes all mutable fields, so this write also covers a held-back mark.
    this.writeBehind.delete(command.id);
    this.mirror(command, updated);
    this.emit({ type: 'updated', command: updated, previous: command.state });
    return updated;
  }

  /** Like `apply` for several commands, in one transaction (all or none). */
  private applyMany(
    commands: readonly QueuedCommand[],
    patches: readonly CommandPatch[],
    durable = true,
  ): QueuedCommand[] {
    commands.forEach((command, i) => {
      const to = patches[i]?.state;
      if (to === undefined || !canTransition(command.state, to)) {
        throw new InvalidTransitionError(command.id, command.state, `move to ${String(to)}`);
      }
    });
    const updated = this.store.transaction(
      () =>
        commands.map((command, i) => {
          const patch = patches[i];
          if (patch === undefined) throw new Error('applyMany: one patch per command');
          return this.store.update(command.id, patch, command);
        }),
      { durable },
    );
    // Every patch writes all mutable fields, so these writes also cover held-back marks.
    for (const command of commands) this.writeBehind.delete(command.id);
    if (!durable) this.scheduleSync();
    this.settleMirror(commands, updated);
    return updated;
  }

  /** Mirrors, then announces, changes already made. */
  private settleMirror(commands: readonly QueuedCommand[], updated: readonly QueuedCommand[]): void {
    this.removeFromQueued(commands);
    updated.forEach((next, i) => {
      const before = commands[i];
      if (before !== undefined) this.mirror(before, next, false);
    });
    updated.forEach((next, i) => {
      const before = commands[i];
      if (before !== undefined) this.emit({ type: 'updated', command: next, previous: before.state });
    });
  }

  /**
   * Takes commands that were `queued` out of their lanes' queued lists, for `mirror`. A window
   * taken from the head of a long queue costs no search.
   */
  private removeFromQueued(befores: readonly QueuedCommand[]): void {
    const byLane = new Map<string, Set<string>>();
    for (const c of befores) {
      if (c.state !== 'queued') continue;
      let ids = byLane.get(c.serverId);
      if (ids === undefined) byLane.set(c.serverId, (ids = new Set()));
      ids.add(c.id);
    }
    for (const [serverId, ids] of byLane) {
      const queued = this.lane(serverId).queued;
      let head = 0;
      while (head < queued.length && ids.has((queued.at(head) as QueuedCommand).id)) head++;
      if (head === ids.size) queued.dropHead(head);
      else queued.retain((c) => !ids.has(c.id));
    }
  }

  /** Moves a command between the in-memory queued list and sending map after a committed write. */
  private mirror(before: QueuedCommand, after: QueuedCommand, removeQueued = true): void {
    const lane = this.lane(after.serverId);
    if (removeQueued && before.state === 'queued') this.removeFromQueued([before]);
    if (before.state === 'sending') lane.sending.delete(before.id);
    this.pendingById.delete(before.id);
    if (after.state === 'queued' || after.state === 'sending') this.pendingById.set(after.id, after);
    if (after.state === 'sending') lane.sending.set(after.id, after);
    if (after.state === 'queued') {
      // Recovered commands keep their original seq; retried ones carry the newest seq.
      lane.queued.insertFromTail(after, (existing) => existing.seq > after.seq);
      noteExpiry(lane, after);
    }
  }

  private emit(change: CommandChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}

/** The patch that hands `command` to the connection: one more attempt, sent now. */
function sendingPatch(command: QueuedCommand, now: number): CommandPatch {
  return {
    state: 'sending',
    updatedAt: now,
    sentAt: now,
    settledAt: null,
    attempts: command.attempts + 1,
    expiresAt: command.expiresAt,
    outcome: null,
  };
}

/** The patch that settles `command` with `outcome`: succeeded for a successful reply, else failed. */
function settlePatch(command: QueuedCommand, outcome: SettleOutcome, now: number): CommandPatch {
  return {
    state: outcome.kind === 'reply' && outcome.success ? 'succeeded' : 'failed',
    updatedAt: now,
    sentAt: command.sentAt,
    settledAt: now,
    attempts: command.attempts,
    expiresAt: command.expiresAt,
    outcome,
  };
}

function noteExpiry(lane: Lane, command: QueuedCommand): void {
  if (command.expiresAt === null) return;
  lane.nextExpiry =
    lane.nextExpiry === null ? command.expiresAt : Math.min(lane.nextExpiry, command.expiresAt);
}

function pushQueued(lane: Lane, command: QueuedCommand): void {
  lane.queued.push(command);
  noteExpiry(lane, command);
}

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE}, got ${String(limit)}`);
  }
  return limit;
}
