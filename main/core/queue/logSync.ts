/**
 * The fsync bookkeeping of the command database's log (-wal file): which commits are durable,
 * the kept descriptor that durable commits fsync, background fsyncs, and the rule that after
 * one failed fsync nothing can be called durable again. See sqliteCommandStore.ts's header for
 * why the store fsyncs the log itself.
 *
 * "fsync" here is fdatasync(2): it flushes the data and the metadata needed to read it back
 * (the file's size when the log grew), and skips the timestamps, whose journal commit would
 * double the cost of a sync once the log is rewritten in place. SQLite's own Unix VFS syncs
 * its log the same way.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import { errorText, StoreFailureError } from './queueErrors';

export class LogSync {
  /** Counts commits made without an fsync (`durable: false`). */
  private lazyCommits = 0;
  /** `lazyCommits` as it was at the last fsync of the log: all of those are durable. */
  private syncedThrough = 0;
  /**
   * Set when an fsync of ours failed. The kernel may have dropped the pages it could not write
   * and report the next fsync as a success, so no later write can be called durable.
   */
  private failed: StoreFailureError | null = null;
  /** The log, opened on first use and kept until `close()`: what a durable commit fsyncs. */
  private fd: number | null = null;
  /** Background fsyncs of `fd` still running: `close()` leaves the descriptor to the last one. */
  private backgroundSyncs = 0;
  private closed = false;

  /**
   * @param databasePath the database file; its log is `<databasePath>-wal`
   * @param wal false when the database runs without WAL (synchronous=FULL): every commit is
   *   then durable by itself and nothing is fsync'd here
   */
  constructor(
    private readonly databasePath: string,
    private readonly wal: boolean,
  ) {}

  /** The failure of an earlier fsync, or null: once set, every later write must be refused. */
  get failure(): StoreFailureError | null {
    return this.failed;
  }

  /** True while a commit made without an fsync has not yet been made durable. */
  get hasUnsyncedWrites(): boolean {
    return this.syncedThrough !== this.lazyCommits;
  }

  /** A commit was made without an fsync (in WAL mode: without it, every commit is durable). */
  noteLazyCommit(): void {
    this.lazyCommits++;
  }

  /**
   * The fsync that ends every durable commit (synchronous=NORMAL skips it). The frames are in
   * the log in commit order, so it makes every earlier non-durable commit durable as well.
   * @param what names the write, for the error
   * @throws StoreFailureError when this or an earlier fsync failed; the commit stands in the
   *   log, may or may not survive a crash, and the store refuses all later writes
   */
  syncCommitted(what: string): void {
    // After a failed fsync a later one may succeed although pages were dropped: never let it
    // count earlier writes as durable.
    if (this.failed !== null) throw this.failed;
    if (this.wal) {
      try {
        fdatasyncSync(this.log());
      } catch (error) {
        throw this.syncFailed(what, error);
      }
    }
    this.syncedThrough = this.lazyCommits;
  }

  /**
   * Like `syncCommitted` for every commit made so far, without blocking: the fsync runs on
   * libuv's thread pool while commits go on. Resolves at once when nothing is owed.
   * @throws (rejects with) StoreFailureError when this or an earlier fsync failed
   */
  syncInBackground(): Promise<void> {
    if (this.closed || !this.hasUnsyncedWrites) return Promise.resolve();
    if (this.failed !== null) return Promise.reject(this.failed);
    const through = this.lazyCommits;
    let fd: number;
    try {
      fd = this.log();
    } catch (error) {
      return Promise.reject(this.syncFailed('recent writes', error));
    }
    this.backgroundSyncs++;
    return new Promise((resolve, reject) => {
      fdatasync(fd, (error) => {
        this.backgroundSyncs--;
        if (this.closed && this.backgroundSyncs === 0) this.closeLog();
        if (error) {
          reject(this.syncFailed('recent writes', error));
          return;
        }
        // Only the commits before `through` are covered; later ones may still be owed.
        this.syncedThrough = Math.max(this.syncedThrough, through);
        resolve();
      });
    });
  }

  /** Releases the descriptor (a background fsync still running releases it when it ends). Idempotent. */
  close(): void {
    this.closed = true;
    if (this.backgroundSyncs === 0) this.closeLog();
  }

  /**
   * The kept descriptor of the log. Kept rather than opened per sync: the kernel reports a
   * failed write-back to descriptors open when it happened, not to one opened afterwards.
   * In exclusive WAL mode SQLite keeps the -wal file (rewriting it in place after
   * checkpoints) until the connection closes.
   */
  private log(): number {
    this.fd ??= openSync(`${this.databasePath}-wal`, 'r+');
    return this.fd;
  }

  private closeLog(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch {
      // Nothing to report: every write that counts was fsync'd, and its result checked, before.
    }
  }

  /** An fsync of ours failed: see `failure`. `what` names the write it was to make durable. */
  private syncFailed(what: string, error: unknown): StoreFailureError {
    const failure = new StoreFailureError(
      `Command store (${this.databasePath}) could not make ${what} durable (${errorText(error)}): ` +
        'it is written but may not survive a crash, and may still take effect after a restart. ' +
        'Every later write is refused until the console restarts.',
      { cause: error },
    );
    this.failed ??= failure;
    return failure;
  }
}
