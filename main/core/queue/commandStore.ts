/**
 * Durable storage behind `CommandQueue`: a small interface so the engine can change
 * (node-sqlite3-wasm today, `node:sqlite` once our Node has it) without touching the queue.
 *
 * The store persists rows; it does not enforce the lifecycle (that is the queue's job). Every
 * write is durable when the call returns (the transaction is committed and fsync'd), except
 * inside a transaction that asks for `durable: false`.
 * All calls are synchronous and throw `StoreFailureError` when the engine fails,
 * `DiskFullError` when a write finds the disk full (nothing of that write is stored),
 * `QueueClosedError` after `close()`. A row that cannot be read is moved to the quarantine and
 * left out of what a read returns, rather than failing the read.
 */
import type { CommandState, QueuedCommand } from '../../../shared/domain/command';
import type { QuarantinedCommand, QueueNotice } from '../../../shared/domain/quarantine';

/** A command as the queue hands it to `insert`: everything but the store-assigned `seq`. */
export type NewCommand = Omit<QueuedCommand, 'seq'>;

/** The fields of a stored command that change over its life. */
export type CommandPatch = Pick<
  QueuedCommand,
  'state' | 'updatedAt' | 'sentAt' | 'settledAt' | 'attempts' | 'expiresAt' | 'outcome'
> & {
  /** When true, the command gets a new `seq` after every existing one (the end of the FIFO). */
  readonly moveToEnd?: boolean;
};

/**
 * `command` with the mutable fields of `patch`: what a store's `update` returns. Written out
 * field by field because V8 builds such a literal several times faster than an object spread,
 * and this runs for every mark and settle.
 */
export function withPatch(command: QueuedCommand, patch: CommandPatch): QueuedCommand {
  return {
    id: command.id,
    seq: command.seq,
    serverId: command.serverId,
    kind: command.kind,
    request: command.request,
    state: patch.state,
    createdAt: command.createdAt,
    updatedAt: patch.updatedAt,
    sentAt: patch.sentAt,
    settledAt: patch.settledAt,
    attempts: patch.attempts,
    expiresAt: patch.expiresAt,
    outcome: patch.outcome,
    summary: command.summary,
    retryOf: command.retryOf,
  };
}

/** A position in the history, newest first: the `settledAt` and `seq` of the last item seen. */
export interface HistoryCursor {
  readonly settledAt: number;
  readonly seq: number;
}

export interface ListQuery {
  readonly serverId?: string;
  /** Only these states; all states when left out. */
  readonly states?: readonly CommandState[];
  /** At most this many, oldest first (by `seq`). */
  readonly limit: number;
}

export interface HistoryQuery {
  readonly serverId?: string;
  readonly limit: number;
  /** Only commands settled strictly before this cursor. */
  readonly before?: HistoryCursor;
}

/** What a store repaired since it was opened, for the operator (see `CommandStore.repairs`). */
export interface StoreRepairs {
  /** Where database files that could not be used were moved at open (oldest first). */
  readonly movedAside: readonly string[];
  /** Quarantine entries made since open: rows that could not be read, at open or on a read. */
  readonly quarantinedEntries: readonly number[];
}

/** How `CommandStore.insert` writes its row. */
export interface InsertOptions {
  /**
   * False: committed without waiting for the disk, like a `durable: false` transaction
   * (`syncInBackground` or `sync` makes it durable). Default true.
   */
  readonly durable?: boolean;
  /**
   * True (implies not durable): the row joins the open batch, one transaction shared by the
   * batched inserts that come before the next `sync()` or other write, which commit it. When
   * that commit fails, the `onBatchLost` listener hears which rows are gone. Without a listener
   * the row is written as with `durable: false`.
   */
  readonly batch?: boolean;
}

/**
 * Hears that the open batch could not be committed (or was rolled back by a failed insert):
 * its rows, those with `seq >= fromSeq`, are not stored; `error` says why (DiskFullError when
 * the disk is full, else StoreFailureError). Called synchronously, before the write that
 * tried the commit goes on, so later rows may reuse those seqs.
 */
export type BatchLostListener = (fromSeq: number, error: Error) => void;

export interface CommandStore {
  /**
   * Stores a new command and gives it the next `seq`. Durable on return, unless
   * `options.durable` is false or `options.batch` true (see `InsertOptions`).
   * @throws DuplicateCommandError when a command with the same id exists (pending or settled)
   */
  insert(command: NewCommand, options?: InsertOptions): QueuedCommand;
  /** Sets the one listener of lost batches (see `InsertOptions.batch`), replacing any before. */
  onBatchLost(listener: BatchLostListener): void;
  /**
   * Overwrites the mutable fields of a command. Durable on return.
   * @throws CommandNotFoundError when no command has this id
   */
  /**
   * @param current the command as the caller holds it; when given, the store may build the
   *   result from it instead of reading the row back
   */
  update(id: string, patch: CommandPatch, current?: QueuedCommand): QueuedCommand;
  /**
   * Runs `work` in one transaction: every write inside is committed (and fsync'd) together, or
   * none when `work` throws (the error is rethrown). Not reentrant.
   * @param options.durable false: commit without waiting for the disk (no fsync). Only for
   *   writes whose loss in a power cut is harmless; the next durable commit, or `sync()`,
   *   makes them durable too (the log is sequential). A power cut can lose such a commit but
   *   never leaves a partial one. Default true.
   */
  transaction<T>(work: () => T, options?: { readonly durable?: boolean }): T;
  /** True while a `durable: false` commit, or an open batch, has not yet been made durable. */
  readonly hasUnsyncedWrites: boolean;
  /**
   * Commits the open batch, then makes every committed write durable (fsync). Cheap when
   * `hasUnsyncedWrites` is false. A batch that fails to commit goes to `onBatchLost`, not here.
   * @param what names the writes in the error (default "recent writes")
   * @throws StoreFailureError when the disk refuses; QueueClosedError after `close()`
   */
  sync(what?: string): void;
  /**
   * Like `sync`, without blocking the caller: resolves once every write committed before the
   * call is durable. Rejects with StoreFailureError when the disk refuses.
   */
  syncInBackground(): Promise<void>;
  /** The command with this id, or null. */
  get(id: string): QueuedCommand | null;
  /**
   * Records, per server, the highest `seq` that may have been handed to the connection without
   * its sending mark being written yet (null: none). Commands up to it that are still `queued`
   * at the next start may have been sent by a process that died. Durable like any write,
   * unless `options.durable` is false (then as `insert` with that option).
   */
  setSendFrontier(serverId: string, seq: number | null, options?: { readonly durable?: boolean }): void;
  /** Every recorded send frontier, by server id. */
  sendFrontiers(): Map<string, number>;
  /**
   * The dedupe epoch last recorded for a server (its health metadata `dedupe_epoch`), or null.
   * Commands sent under another epoch than the server's current one may run twice if resent.
   * A recorded value that cannot be read is returned as '' (never a real epoch), not thrown.
   */
  dedupeEpoch(serverId: string): string | null;
  /** Records a server's dedupe epoch. Durable like any write (atomic inside a transaction). */
  setDedupeEpoch(serverId: string, epoch: string): void;
  /** Every `queued` or `sending` command, across servers, in `seq` order (used at start). */
  loadPending(): QueuedCommand[];
  /** Commands matching the query, oldest first. */
  list(query: ListQuery): QueuedCommand[];
  /** Commands with a `settledAt`, newest first (ties by `seq`, newest first). */
  history(query: HistoryQuery): QueuedCommand[];
  /**
   * Commands that could not be read and were set aside (kept as found, never sent), oldest
   * first; only those whose stored server id is `serverId` when given.
   */
  quarantined(serverId?: string): QuarantinedCommand[];
  /**
   * Deletes one quarantined command for good: by entry number, or by the request id it holds.
   * Durable on return.
   * @returns what was deleted
   * @throws QuarantineEntryNotFoundError when nothing matches
   */
  discardQuarantined(key: number | string): QuarantinedCommand;
  /** Notices about repairs made at open (a database file moved aside), oldest first. */
  notices(): QueueNotice[];
  /** Deletes a notice once the operator has read it. Durable on return. @returns false when there is none with this id */
  dismissNotice(id: number): boolean;
  /** What was repaired since this store was opened. */
  readonly repairs: StoreRepairs;
  /** Flushes and releases the database and the directory lock. Idempotent. */
  close(): void;
}
