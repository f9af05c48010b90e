/**
 * Group commit of enqueues (docs/ARCHITECTURE.md §3.8): each enqueue commits its row without an
 * fsync and waits here; one fsync of the log then covers every row committed before it started,
 * so a burst of enqueues pays one or two fsyncs instead of one each. There is no batching
 * delay: the fsync starts as soon as the enqueue that needs it has returned to the event loop
 * (a microtask, not a timer), and what arrives while it runs waits for the next one, which
 * starts the moment the first ends.
 */
import type { QueuedCommand } from '../../../shared/domain/command';
import type { CommandStore } from './commandStore';
import { errorText, StoreFailureError } from './queueErrors';

/** An enqueue whose row is committed and not yet known to be durable. */
interface Waiter {
  readonly command: QueuedCommand;
  readonly resolve: (command: QueuedCommand) => void;
  readonly reject: (error: Error) => void;
}

export interface GroupCommitOptions {
  /** Announces a command whose row has become durable, just before its enqueue resolves. */
  readonly onDurable: (command: QueuedCommand) => void;
}

export class GroupCommit {
  /** Rows committed after the running fsync started (or with none running): the next group. */
  private waiting: Waiter[] = [];
  /** Rows the running fsync covers. */
  private covering: Waiter[] = [];
  private syncing = false;
  private startQueued = false;
  /** The lowest seq whose fsync failed: it and every later row stay unsendable. */
  private failedFrom = Number.POSITIVE_INFINITY;
  /** The fsync failure the waiting enqueues were rejected with, if one was. */
  private reported: Error | null = null;
  private closed = false;

  constructor(
    private readonly store: CommandStore,
    private readonly options: GroupCommitOptions,
  ) {}

  /**
   * Resolves with `command` (whose row was just committed without an fsync) once an fsync that
   * covers its row has succeeded; rejects with the store's StoreFailureError when that fsync
   * fails (the row is written but may not survive a crash).
   */
  wait(command: QueuedCommand): Promise<QueuedCommand> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ command, resolve, reject });
      if (this.syncing || this.startQueued) return;
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
    const first = this.covering[0] ?? this.waiting[0];
    return Math.min(this.failedFrom, first === undefined ? Number.POSITIVE_INFINITY : first.command.seq);
  }

  /**
   * Call after a write that was fsync'd on the spot: when the store owes nothing, every waiting
   * row is durable, so those enqueues resolve (and are announced) now rather than after the
   * background fsync, keeping announcements in the order the rows became durable.
   */
  settleIfSynced(): void {
    if (this.store.hasUnsyncedWrites || this.closed) return;
    this.succeed([...this.covering.splice(0), ...this.waiting.splice(0)]);
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
    const all = [...this.covering.splice(0), ...this.waiting.splice(0)];
    for (const w of all) {
      if (syncError === undefined) w.resolve(w.command);
      else w.reject(syncError);
    }
  }

  private start(): void {
    if (this.syncing || this.closed || this.waiting.length === 0) return;
    this.syncing = true;
    const group = this.waiting.splice(0);
    this.covering = group;
    const first = group[0] as Waiter;
    const what =
      group.length === 1
        ? `command ${first.command.id}`
        : `${group.length} commands enqueued together (the first ${first.command.id})`;
    this.store.syncInBackground(what).then(
      () => {
        this.syncing = false;
        this.succeed(this.covering.splice(0));
        this.start();
      },
      (error: unknown) => {
        this.syncing = false;
        const failed = this.covering.splice(0);
        // The store now refuses every write, so rows committed after these cannot be made
        // durable either: none of them may be sent.
        const later = this.waiting.splice(0);
        this.failedFrom = Math.min(this.failedFrom, first.command.seq);
        const reason = error instanceof Error ? error : new Error(String(error));
        this.reported = reason;
        for (const w of failed) w.reject(reason);
        for (const w of later) {
          w.reject(
            new StoreFailureError(
              `Cannot make command ${w.command.id} durable: an earlier fsync of the command database failed (${errorText(reason)}); ` +
                'it is written but may not survive a crash, and may still take effect after a restart. Restart the console once the disk is fixed.',
              { cause: reason },
            ),
          );
        }
      },
    );
  }

  private succeed(group: readonly Waiter[]): void {
    for (const w of group) {
      this.options.onDurable(w.command);
      w.resolve(w.command);
    }
  }
}
