/**
 * The durable command queue (docs/ARCHITECTURE.md §3): the lifecycle state machine over a
 * `CommandStore`, and the queue's public API. The network side (Dispatcher, Connection) drives
 * it through `sendNext` → `settleAndSendNext` / `settle` / `markTimedOut`, and
 * `recoverAfterRestart` after a reconnect or a restart.
 *
 * Its parts, one concern each:
 * - `PendingIndex` mirrors the pending (queued or sending) commands per server, so the limit,
 *   the window and FIFO checks cost no database round trip. The mirror is updated after the
 *   store's write has committed, with one exception: a write-behind sending mark.
 * - `WriteBehindLog` holds those marks (`sendNext` with the `writeBehind` policy, dedupe servers
 *   only), makes them and `durable: false` commits durable within `syncLagMs`, and keeps the
 *   send frontier that a restart after a crash relies on.
 * - `ExpiryTimer` expires queued commands at their deadline, whether their server is online
 *   or not.
 *
 * Every method except `enqueue` is synchronous; each write is durable (committed and fsync'd)
 * when it returns, except those a caller makes with `durable: false` or a non-durable
 * `SendPolicy` (allowed only where a lost write is recovered by a resend the server answers
 * from its dedupe cache), which the queue makes durable within `syncLagMs`. Methods throw the
 * `QueueError` subclasses named in their docs, and `QueueClosedError` after `close()`.
 */
import { randomUUID } from 'node:crypto';
import { isRequestType, ProtocolError } from '../../../shared/protocol';
import { ListenerSet } from '../listenerSet';
import type { RequestMessage } from '../../../shared/protocol';
import {
  UUID_V4_PATTERN,
  assertNever,
  canTransition,
  isOutcomeUnknown,
  summarizeRequest,
} from '../../../shared/domain/command';
import type {
  CommandChange,
  CommandOutcome,
  CommandState,
  QueuedCommand,
  SettleOutcome,
} from '../../../shared/domain/command';
import type { QuarantinedCommand, QueueHealth } from '../../../shared/domain/quarantine';
import { endPatch, keepPatch, sendingPatch, settlePatch } from './commandPatches';
import type { CommandPatch, CommandStore, HistoryCursor, StoreRepairs } from './commandStore';
import { ExpiryTimer } from './expiryTimer';
import { SettleBatcher, type SettleStep, type SettleStepResult } from './settleBatcher';
import { GroupCommit } from './groupCommit';
import { PendingIndex } from './pendingIndex';
import {
  CommandNotFoundError,
  DiskFullError,
  DuplicateCommandError,
  InvalidCommandError,
  InvalidTransitionError,
  QueueClosedError,
  QueueFullError,
} from './queueErrors';
import { CACHE_LOST_REASON, mayResend, notResent, RESEND_WINDOW_PASSED_REASON } from './resendPolicy';
import { WriteBehindLog } from './writeBehindLog';

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
  /**
   * Receives a failure of a background write: that sync, or expiring commands on the timer
   * (retried after `EXPIRY_RETRY_MS`); default console.error.
   */
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

/**
 * How `sendNext` records its sending marks:
 * - `durable`: committed and fsync'd before it returns. The only choice for a server without
 *   dedupe, where the mark is what stops a second send after a crash.
 * - `unsynced`: committed, made durable within `syncLagMs` (dedupe servers only: losing the mark
 *   in a power cut only means a resend the server answers from its cache).
 * - `writeBehind`: made in memory now, written within `syncLagMs` and before `list` reads
 *   (dedupe servers only, for the same reason), so a command answered sooner is written once,
 *   settled, instead of twice.
 */
export type SendPolicy = 'durable' | 'unsynced' | 'writeBehind';

/** How long, ms, the expiry timer waits before trying again after a failed write. */
export const EXPIRY_RETRY_MS = 1000;

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
  private readonly index = new PendingIndex();
  private readonly log: WriteBehindLog;
  private readonly expiry: ExpiryTimer;
  private readonly group: GroupCommit;
  /**
   * Where dispatchers put the replies they receive: settled for all of them in one transaction
   * (`settleAndSendMany`), per turn or, during a drain, per `SETTLE_GAP_MS` (settleBatcher.ts).
   */
  readonly settles = new SettleBatcher((steps) => this.settleAndSendMany(steps));
  /**
   * The recorded dedupe epoch by server, read from the store once: the dispatcher asks on every
   * pump, and this queue is the store's only writer.
   */
  private readonly epochs = new Map<string, string | null>();
  private readonly listeners: ListenerSet<CommandChange>;
  private readonly maxPending: number;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly onSyncError: (error: unknown) => void;
  private closed = false;

  /**
   * Loads every pending command from `store`. Commands left in `sending` by a previous
   * process stay there until `recoverAfterRestart` is called for their server (the Dispatcher
   * does so once it knows whether the server dedupes). Starts the expiry timer.
   * @throws RangeError when `maxPending` is not a positive integer or `syncLagMs` is negative
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
    this.listeners = new ListenerSet(
      options.onListenerError ??
        ((error) => {
          console.error('command queue listener failed', error);
        }),
    );
    const syncLagMs = options.syncLagMs ?? 100;
    if (!Number.isFinite(syncLagMs) || syncLagMs < 0) {
      throw new RangeError(`syncLagMs must be a non-negative number, got ${String(options.syncLagMs)}`);
    }
    this.onSyncError =
      options.onSyncError ??
      ((error) => {
        console.error('command queue: making recent writes durable failed', error);
      });
    this.log = new WriteBehindLog(store, {
      syncLagMs,
      onSyncError: this.onSyncError,
      isSending: (id) => this.index.get(id)?.state === 'sending',
    });
    this.group = new GroupCommit(store, {
      onDurable: (command) => {
        this.emit({ type: 'enqueued', command });
      },
      onLost: (commands) => {
        this.index.remove(commands);
      },
      lostError: (command, cause) => this.notQueued(command.summary, cause),
    });
    this.expiry = new ExpiryTimer({
      now: this.now,
      onDue: () => {
        this.expireOnTimer();
      },
    });
    for (const command of WriteBehindLog.loadPending(store, this.now())) this.index.add(command);
    this.expiry.arm(this.index.earliestExpiry());
  }

  /**
   * Stores a command for `serverId`. Resolves only once it is on disk (committed and fsync'd).
   * The command's id is `request.request_id`, which must be fresh UUID v4 text.
   *
   * Group commit: the row is committed at once and the fsync runs off the main thread; one
   * fsync covers every enqueue committed before it started, so concurrent enqueues share it
   * (no timer: a lone enqueue waits only for its own fsync). Until then the command counts
   * toward the limit and can be read, but is neither announced (`onChange`) nor sent.
   *
   * @param expiresAt (in options) ms since the epoch after which it is never sent; it is then
   *   marked expired (and stops counting toward the limit) whether or not its server is online
   * @throws (rejects with) QueueFullError when the server already has `maxPending` pending
   *   commands; InvalidCommandError for an empty server id, an unknown request type, a
   *   request_id that is not lowercase UUID v4 text, an expiry not in the future, or a request
   *   the codec refuses; DuplicateCommandError when the request_id was used before;
   *   DiskFullError when the disk is full (the command was not stored; the message says how
   *   many queued commands are kept); StoreFailureError when the fsync covering it fails (the
   *   command is written but may not survive a crash, and may still be sent after a restart;
   *   every enqueue that waited on that fsync rejects alike)
   */
  enqueue(serverId: string, request: RequestMessage, options: EnqueueOptions = {}): Promise<QueuedCommand> {
    let command: QueuedCommand;
    try {
      command = this.enqueueNow(serverId, request, options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.group.wait(command);
  }

  /** `enqueue` up to the commit: the insert is synchronous, its fsync is the group's. */
  private enqueueNow(serverId: string, request: RequestMessage, options: EnqueueOptions): QueuedCommand {
    this.assertOpen('enqueue a command');
    if (typeof serverId !== 'string' || serverId.length === 0) {
      throw new InvalidCommandError('serverId must be a non-empty string.');
    }
    const requestType: unknown = (request as { type?: unknown }).type;
    if (typeof requestType !== 'string' || !isRequestType(requestType)) {
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
    const expiresAt = this.checkRoom(serverId, options.expiresAt, now);
    const summary = options.summary ?? summarizeRequest(request);
    try {
      return this.insertQueued(serverId, request, now, expiresAt, summary, null, false);
    } catch (error) {
      if (error instanceof DuplicateCommandError || error instanceof QueueClosedError) throw error;
      if (error instanceof ProtocolError) {
        throw new InvalidCommandError(`The ${request.type} cannot be encoded: ${error.message}`);
      }
      throw this.notQueued(summary, error);
    }
  }

  /**
   * The error an enqueue fails with when the store did not keep its row (`summary` names the
   * command): for a full disk, what the operator needs (this one is not queued, the rest is
   * safe); any other error as it is.
   */
  private notQueued(summary: string, error: unknown): Error {
    if (!(error instanceof DiskFullError)) return error instanceof Error ? error : new Error(String(error));
    return new DiskFullError(
      `The disk is full${error.directory === null ? '' : ` (${error.directory})`}: the command was not queued (${summary}). ` +
        `The ${this.index.size} command(s) already queued are kept and will still be sent, and the history is kept. ` +
        'Free some disk space and try again.',
      { cause: error, ...(error.directory === null ? {} : { directory: error.directory }) },
    );
  }

  /**
   * Marks the oldest queued commands of `serverId` as sending (`attempts + 1`, `sentAt = now`),
   * at most `window` minus those already sending, in ONE transaction (one fsync for a whole
   * window instead of one per command). Expires due commands of that server first, so an
   * expired command is never handed out. Returns the commands now `sending`, in FIFO order.
   * @param window in-flight limit (≥ 1) for this server
   * @param policy how the marks are recorded (see `SendPolicy`); default `durable`
   * @throws RangeError when `window` is not a positive integer
   */
  sendNext(serverId: string, window: number, policy: SendPolicy = 'durable'): QueuedCommand[] {
    this.assertOpen('pick commands to send');
    if (!Number.isSafeInteger(window) || window < 1) {
      throw new RangeError(`window must be a positive integer, got ${String(window)}`);
    }
    const next = this.prepareSend(serverId, window);
    if (next.commands.length === 0) return [];
    if (policy !== 'writeBehind') return this.applyMany(next.commands, next.patches, policy === 'durable');
    const updated = this.log.hold(serverId, next.commands, next.patches, (i) =>
      this.index.queuedAtOrLast(serverId, i),
    );
    this.mirrorAndAnnounce(next.commands, updated);
    return updated;
  }

  /** The window's next commands and their `sending` patches (nothing written yet). */
  private prepareSend(serverId: string, window: number): PreparedChanges {
    const now = this.now();
    this.expireLane(serverId, now);
    let commands = this.index.nextToSend(serverId, window);
    // Never send a command before its enqueue has resolved (its row is durable). The lane is
    // in seq order, so what may go is a prefix.
    const gate = this.group.unsendableFrom;
    const blocked = commands.findIndex((command) => command.seq >= gate);
    if (blocked !== -1) commands = commands.slice(0, blocked);
    return { commands, patches: commands.map((command) => sendingPatch(command, now)) };
  }

  /**
   * One step of a dispatcher, in ONE transaction: settles `items` (as `settle`; items whose
   * command is no longer `sending` or `timed_out`, e.g. cancelled meanwhile, are skipped
   * rather than failing the others) and marks the server's next commands as sending (as
   * `sendNext`, the settled ones no longer counting against `window`). Announces the settles
   * first.
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
  ): SettleStepResult {
    const [result] = this.settleAndSendMany([{ serverId, items, window, durable: options.durable ?? true }]);
    return result ?? { settled: [], sending: [] };
  }

  /**
   * `settleAndSendNext` for several dispatchers' steps in ONE transaction (what each flush of
   * `settles` commits): fsync'd when any step is durable. Announces every settle before any
   * sending mark. A server named by an earlier step sends nothing in a later one (its dispatcher
   * refills on its next pump).
   * @returns one result per step, in order
   * @throws RangeError when a window is not a non-negative integer (nothing is written)
   */
  settleAndSendMany(steps: readonly SettleStep[]): SettleStepResult[] {
    this.assertOpen('settle and send commands');
    for (const { window } of steps) {
      if (!Number.isSafeInteger(window) || window < 0) {
        throw new RangeError(`window must be a non-negative integer, got ${String(window)}`);
      }
    }
    const seen = new Set<string>();
    const servers = new Set<string>();
    const prepared = steps.map((step) => {
      const settle = this.prepareSettle(step.items, seen);
      // Settled commands still count as sending in their lane until this step commits.
      const freed = settle.commands.filter(
        (c) => c.state === 'sending' && c.serverId === step.serverId,
      ).length;
      const send =
        step.window > 0 && !servers.has(step.serverId)
          ? this.prepareSend(step.serverId, step.window + freed)
          : { commands: [], patches: [] };
      servers.add(step.serverId);
      return { settle, send };
    });
    const commands = [
      ...prepared.flatMap((p) => p.settle.commands),
      ...prepared.flatMap((p) => p.send.commands),
    ];
    if (commands.length === 0) return steps.map(() => ({ settled: [], sending: [] }));
    const updated = this.applyMany(
      commands,
      [...prepared.flatMap((p) => p.settle.patches), ...prepared.flatMap((p) => p.send.patches)],
      steps.some((step) => step.durable),
    );
    let settledAt = 0;
    let sendingAt = prepared.reduce((n, p) => n + p.settle.commands.length, 0);
    return prepared.map(({ settle, send }) => {
      const settled = updated.slice(settledAt, (settledAt += settle.commands.length));
      const sending = updated.slice(sendingAt, (sendingAt += send.commands.length));
      return { settled, sending };
    });
  }

  /** The settle patches of the items whose command can still be settled (nothing written yet). */
  private prepareSettle(items: readonly SettleItem[], seen = new Set<string>()): PreparedChanges {
    const now = this.now();
    const commands: QueuedCommand[] = [];
    const patches: CommandPatch[] = [];
    for (const { id, outcome } of items) {
      if (seen.has(id)) continue;
      const command = this.index.get(id) ?? this.store.get(id);
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
    const patch = settlePatch(command, outcome, this.now());
    if (command.state !== 'sending' && command.state !== 'timed_out') {
      throw new InvalidTransitionError(id, command.state, `mark as ${patch.state}`);
    }
    return this.apply(command, patch);
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
    return this.apply(command, endPatch(command, 'timed_out', { kind: 'unknown', reason }, this.now()));
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
    return this.apply(command, endPatch(command, 'cancelled', { kind: 'cancelled', reason }, this.now()));
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
    const expiresAt = this.checkRoom(command.serverId, options.expiresAt, now);
    if (isOutcomeUnknown(command)) {
      return this.apply(command, {
        ...keepPatch(command),
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
    const targets = this.index.sending(serverId);
    if (targets.length === 0) return [];
    const now = this.now();
    const outcome: CommandOutcome = {
      kind: 'unknown',
      reason:
        'sent, but the connection was lost or the console restarted before a reply; ' +
        'the server does not deduplicate requests, so it was not resent automatically',
    };
    const patches = targets.map((command): CommandPatch => {
      if (options.dedupe && mayResend(command, now)) {
        return { ...keepPatch(command), state: 'queued', updatedAt: now };
      }
      const why = options.dedupe ? notResent(RESEND_WINDOW_PASSED_REASON) : outcome;
      return endPatch(command, 'timed_out', why, now);
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
    const sending = this.index.sending(serverId);
    // Only those the dispatcher could still resend need the mark; the rest never go out again.
    const timedOut = this.store
      .list({ serverId, states: ['timed_out'], limit: 2_147_483_647 })
      .filter((c) => mayResend(c, now));
    const lost = notResent(CACHE_LOST_REASON);
    const [sent, marked] = this.store.transaction(() => {
      const a = sending.map((c) => this.store.update(c.id, endPatch(c, 'timed_out', lost, now), c));
      const b = timedOut.map((c) =>
        this.store.update(c.id, { ...keepPatch(c), updatedAt: now, outcome: lost }, c),
      );
      this.store.setDedupeEpoch(serverId, epoch);
      return [a, b] as const;
    });
    this.epochs.set(serverId, epoch);
    for (const c of sending) this.log.forget(c.id);
    this.mirrorAndAnnounce(sending, sent);
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
      ...keepPatch(command),
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
    return this.index.get(id) ?? this.store.get(id);
  }

  /**
   * Commands in issue order, optionally of one server and/or in some states.
   * @param limit at most this many (1–10 000); default 1000
   */
  list(serverId?: string, states?: readonly CommandState[], limit = 1000): QueuedCommand[] {
    this.assertOpen('list commands');
    this.log.flush();
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

  /**
   * The commands of `serverId` now `sending`, in issue order, from memory: no database read, so
   * a hundred dispatchers coming online at once do not each scan the table.
   */
  sending(serverId: string): QueuedCommand[] {
    this.assertOpen('list commands');
    return this.index.sending(serverId);
  }

  /** Queued + sending commands of `serverId` (what counts toward `maxPending`). */
  pendingCount(serverId: string): number {
    return this.index.count(serverId);
  }

  /** Servers with at least one queued or sending command (e.g. to connect to at start). */
  serversWithPending(): string[] {
    return this.index.servers();
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
    return this.listeners.add(listener);
  }

  /** Makes every write durable, stops the timers, closes the store and drops listeners. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.expiry.stop();
    this.listeners.clear();
    let syncError: Error | undefined;
    try {
      try {
        this.log.close();
      } finally {
        syncError = this.syncForClose();
      }
      // The enqueues a reported failure concerned were rejected with it: nothing new to tell.
      if (syncError !== undefined && !this.group.wasReported(syncError)) throw syncError;
    } finally {
      // Every enqueue still waiting for its fsync is covered by that sync (or fails with it).
      this.group.close(syncError);
      this.index.clear();
      this.store.close();
    }
  }

  /** `store.sync()` for `close`: the error it threw, or undefined once everything is durable. */
  private syncForClose(): Error | undefined {
    try {
      this.store.sync();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new QueueClosedError(operation);
  }

  private find(id: string): QueuedCommand {
    const command = this.index.get(id) ?? this.store.get(id);
    if (command === null) throw new CommandNotFoundError(id);
    return command;
  }

  /**
   * Checks that `serverId` has room for one more pending command and that `expiresAt` is a
   * deadline in the future; returns the deadline (null for none).
   * @throws InvalidCommandError for a bad deadline; QueueFullError when the server is full
   */
  private checkRoom(serverId: string, expiresAt: number | null | undefined, now: number): number | null {
    const deadline = checkExpiry(expiresAt, now);
    const pending = this.index.count(serverId);
    if (pending >= this.maxPending) throw new QueueFullError(serverId, this.maxPending, pending);
    return deadline;
  }

  /**
   * On the expiry timer: expires what is due on every server and sets the timer for the next
   * deadline. A failed write is reported and tried again after `EXPIRY_RETRY_MS`.
   */
  private expireOnTimer(): void {
    if (this.closed) return;
    const now = this.now();
    try {
      for (const serverId of this.index.laneIds()) this.expireLane(serverId, now);
    } catch (error) {
      this.onSyncError(error);
      this.expiry.arm(now + EXPIRY_RETRY_MS);
      return;
    }
    this.expiry.arm(this.index.earliestExpiry());
  }

  /** Marks the queued commands of `serverId` due at `now` as expired, in one transaction. */
  private expireLane(serverId: string, now: number): QueuedCommand[] {
    const due = this.index.dueToExpire(serverId, now);
    if (due.length === 0) return [];
    const expired = this.applyMany(
      due,
      due.map((command) =>
        endPatch(command, 'expired', { kind: 'expired', expiresAt: command.expiresAt ?? now }, now),
      ),
    );
    // Finds nothing due now, which brings the lane's expiry bound up to date.
    this.index.dueToExpire(serverId, now);
    return expired;
  }

  /**
   * Stores a new queued command (id = its request_id) and mirrors it. A durable insert is
   * announced now; a non-durable one (an enqueue) once its group commit makes it durable.
   */
  private insertQueued(
    serverId: string,
    request: RequestMessage,
    now: number,
    expiresAt: number | null,
    summary: string,
    retryOf: string | null,
    durable = true,
  ): QueuedCommand {
    const command = this.store.insert(
      {
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
      },
      // Not durable: an enqueue, which joins the burst's batch (its group commit ends it).
      { durable, batch: !durable },
    );
    this.index.add(command);
    this.expiry.arm(command.expiresAt);
    if (durable) {
      this.group.settleIfSynced();
      this.emit({ type: 'enqueued', command });
    }
    return command;
  }

  /** Checks, writes, then mirrors and announces one change. */
  private apply(command: QueuedCommand, patch: CommandPatch): QueuedCommand {
    if (!canTransition(command.state, patch.state)) {
      throw new InvalidTransitionError(command.id, command.state, `move to ${patch.state}`);
    }
    const updated = this.store.update(command.id, patch, command);
    // Every patch writes all mutable fields, so this write also covers a held-back mark.
    this.log.forget(command.id);
    this.mirrorAndAnnounce([command], [updated]);
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
    for (const command of commands) this.log.forget(command.id);
    if (!durable) this.log.scheduleSync();
    this.mirrorAndAnnounce(commands, updated);
    return updated;
  }

  /** Mirrors changes already made (each `befores[i]` became `afters[i]`), then announces them. */
  private mirrorAndAnnounce(befores: readonly QueuedCommand[], afters: readonly QueuedCommand[]): void {
    this.index.apply(befores, afters);
    for (const after of afters) if (after.state === 'queued') this.expiry.arm(after.expiresAt);
    // A write fsync'd on the spot covered the enqueues still waiting: announce them first.
    this.group.settleIfSynced();
    afters.forEach((command, i) => {
      const before = befores[i];
      if (before !== undefined) this.emit({ type: 'updated', command, previous: before.state });
    });
  }

  private emit(change: CommandChange): void {
    this.listeners.emit(change);
  }
}

/**
 * `expiresAt` checked: null for none, else whole ms since the epoch after `now`.
 * @throws InvalidCommandError otherwise
 */
function checkExpiry(expiresAt: number | null | undefined, now: number): number | null {
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

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE}, got ${String(limit)}`);
  }
  return limit;
}
