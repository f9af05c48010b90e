/**
 * Group commit of enqueues (docs/ARCHITECTURE.md §3.8): each enqueue writes its row into the
 * store's open batch (one transaction for the burst) and waits here; one commit and one fsync
 * of the log then cover every row written before them, so a burst of enqueues pays one of each
 * instead of one each. A batch that cannot be committed rejects the enqueues of its rows, which
 * are then not stored. There is no batching delay: the commit and fsync run in a microtask (not
 * a timer) right after the synchronous run that made the enqueue, so a lone enqueue waits for
 * its own commit and fsync and nothing else, and enqueues made in the same run share them. The
 * fsync blocks the thread, as each enqueue's own did before: enqueues that arrive meanwhile
 * (IPC, ctl) wait in the event queue and share the next one.
 */
import type { QueuedCommand } from '../../../shared/domain/command';
import type { CommandStore } from './commandStore';

/** An enqueue whose row is committed and not yet known to be durable. */
interface Waiter {
  readonly command: QueuedCommand;
  readonly resolve: (command: QueuedCommand) => void;
  readonly reject: (error: Error) => void;
}

export interface GroupCommitOptions {
  /** Announces a command whose row has become durable, just before its enqueue resolves. */
  readonly onDurable: (command: QueuedCommand) => void;
  /** Forgets the commands whose rows were lost with their batch (none of them is stored). */
  readonly onLost: (commands: readonly QueuedCommand[]) => void;
  /** The error the enqueue of a lost `command` rejects with, given why its batch was lost. */
  readonly lostError: (command: QueuedCommand, cause: Error) => Error;
}

export class GroupCommit {
  /** Rows committed and not yet covered by an fsync: the next group. */
  private waiting: Waiter[] = [];
  private startQueued = false;
  /** The lowest seq whose fsync failed: it and every later row stay unsendable. */
  private failedFrom = Number.POSITIVE_INFINITY;
  /** The fsync failure the waiting enqueues were rejected with, if one was. */
  private reported: Error | null = null;
  private closed = false;

  constructor(
    private readonly store: CommandStore,
    private readonly options: GroupCommitOptions,
  ) {
    store.onBatchLost((fromSeq, error) => {
      this.lose(fromSeq, error);
    });
  }

  /**
   * Resolves with `command` (whose row was just written in the store's batch, or committed
   * without an fsync) once an fsync that covers its committed row has succeeded; rejects with
   * the store's StoreFailureError when that fsync fails (the row is written but may not survive
   * a crash), as does every enqueue of its group, and with `onLost`'s error when its batch
   * could not be committed (the row is not stored).
   */
  wait(command: QueuedCommand): Promise<QueuedCommand> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ command, resolve, reject });
      if (this.startQueued) return;
      // A microtask, not a timer: enqueues made in the same synchronous run share the fsync,
      // and a lone one waits for nothing but its own.
      this.startQueued = true;
      queueMicrotask(() => {
        this.startQueued = false;
        this.start();
      });
    });
  }

  /**
   * The lowest seq that must not be sent yet: a row whose enqueue has not resolved (its fsync
   * is owed) or whose fsync failed. Infinity when every row is durable. Rows become durable in
   * seq order (the log is sequential), so everything below is durable.
   */
  get unsendableFrom(): number {
    const first = this.waiting[0];
    return Math.min(this.failedFrom, first === undefined ? Number.POSITIVE_INFINITY : first.command.seq);
  }

  /**
   * Call after a write that was fsync'd on the spot: when the store owes nothing, every waiting
   * row is durable, so those enqueues resolve (and are announced) now rather than at the group's
   * fsync, keeping announcements in the order the rows became durable.
   */
  settleIfSynced(): void {
    if (this.store.hasUnsyncedWrites || this.closed) return;
    this.succeed(this.waiting.splice(0));
  }

  /**
   * Whether `error` is the fsync failure already delivered to the enqueues it concerned (the
   * store repeats it on every later sync): `close` need not throw it again.
   */
  wasReported(error: unknown): boolean {
    return error !== null && error === this.reported;
  }

  /**
   * At close, after the caller synced the store: resolves every waiter (their rows are durable),
   * or, given the error that sync threw, rejects them all. Later fsync results are ignored.
   */
  close(syncError?: Error): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) {
      if (syncError === undefined) w.resolve(w.command);
      else w.reject(syncError);
    }
  }

  /** The batch holding the rows from `fromSeq` on was not committed: their enqueues fail. */
  private lose(fromSeq: number, error: Error): void {
    // Waiters are in seq order, so the lost ones are a suffix.
    let keep = this.waiting.length;
    while (keep > 0 && (this.waiting[keep - 1] as Waiter).command.seq >= fromSeq) keep--;
    const lost = this.waiting.splice(keep);
    this.options.onLost(lost.map((w) => w.command));
    for (const w of lost) w.reject(this.options.lostError(w.command, error));
  }

  private start(): void {
    if (this.closed || this.waiting.length === 0) return;
    const first = this.waiting[0] as Waiter;
    const count = this.waiting.length;
    const what =
      count === 1
        ? `command ${first.command.id}`
        : `${count} commands enqueued together (the first ${first.command.id})`;
    try {
      // Commits the batch first; a batch that fails to commit is taken out of `waiting` by `lose`.
      this.store.sync(what);
    } catch (error) {
      // The store now refuses every write (a later fsync could succeed for pages the kernel
      // dropped), so nothing committed from here on can be made durable or sent.
      this.failedFrom = Math.min(this.failedFrom, first.command.seq);
      const reason = error instanceof Error ? error : new Error(String(error));
      this.reported = reason;
      for (const w of this.waiting.splice(0)) w.reject(reason);
      return;
    }
    this.succeed(this.waiting.splice(0));
  }

  private succeed(group: readonly Waiter[]): void {
    for (const w of group) {
      this.options.onDurable(w.command);
      w.resolve(w.command);
    }
  }
}
