/**
 * The writes `CommandQueue` makes later than it announces them (docs/ARCHITECTURE.md §3.4):
 * sending marks held in memory (`sendNext` with the `writeBehind` policy, dedupe servers
 * only), the timer that writes them and makes `durable: false` commits durable within
 * `syncLagMs`, and the per-server send frontier that tells the next start which queued
 * commands a dead process may have sent under a mark that never reached the disk.
 *
 * A held mark may be lost in a crash only because the frontier was written durably first: the
 * next start counts every queued command up to it as possibly sent (see `loadPending`).
 */
import type { QueuedCommand } from '../../../shared/domain/command';
import { sendingPatch } from './commandPatches';
import { withPatch } from './commandStore';
import type { CommandPatch, CommandStore } from './commandStore';

/**
 * How far past the last command handed out a recorded send frontier reaches: one durable
 * write covers this many write-behind sends, and after a crash at most this many never-sent
 * commands are counted as possibly sent.
 */
const FRONTIER_RESERVE = 256;

/** Longest wait, ms, between retries of a background write that failed. */
const MAX_RETRY_MS = 60_000;

/** A sending mark made in memory and not yet written. */
interface HeldMark {
  readonly current: QueuedCommand;
  readonly patch: CommandPatch;
}

export interface WriteBehindOptions {
  /** Longest time, ms, a held mark or a `durable: false` commit waits before it is made durable. */
  readonly syncLagMs: number;
  /** Receives a failure of the background write or fsync. */
  readonly onSyncError: (error: unknown) => void;
  /** Whether a command is still `sending` (a held mark is owed only for those). */
  readonly isSending: (id: string) => boolean;
}

export class WriteBehindLog {
  /** Held marks by command id. */
  private readonly held = new Map<string, HeldMark>();
  /** The recorded (durable) send frontier by server: no command above it left with a held mark. */
  private readonly frontiers = new Map<string, number>();
  /** The frontier last written by server, durable or not yet (an early advance under way). */
  private readonly written = new Map<string, number>();
  /** Servers whose next frontier is written and waits for its background fsync. */
  private readonly advancing = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly store: CommandStore,
    private readonly options: WriteBehindOptions,
  ) {}

  /**
   * The pending commands of `store`, after turning those a dead process may have sent into
   * `sending`: a `queued` command at or below its server's recorded send frontier may have left
   * with a held mark that never reached the disk. Counting it as sent (one more attempt) lets
   * recovery resend it with the same request_id, and keeps expiry, cancel and retry from
   * treating it as never sent. The frontiers are then cleared, in the same transaction.
   * @param now ms since the epoch
   * @throws StoreFailureError, DiskFullError when the store refuses
   */
  static loadPending(store: CommandStore, now: number): QueuedCommand[] {
    const pending = store.loadPending();
    const frontiers = store.sendFrontiers();
    if (frontiers.size === 0) return pending;
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
   * Holds the marks `patches[i]` of `commands[i]` (all of `serverId`, oldest first) and returns
   * the commands as marked. First makes sure the recorded send frontier covers them, moving it
   * (durably) FRONTIER_RESERVE commands further when not.
   * @param reach the queued command at a given index from the head of the server's queue,
   *   clamped to the last one (how far the frontier may reach)
   * @throws StoreFailureError, DiskFullError when the frontier cannot be written (nothing held)
   */
  hold(
    serverId: string,
    commands: readonly QueuedCommand[],
    patches: readonly CommandPatch[],
    reach: (index: number) => QueuedCommand | undefined,
  ): QueuedCommand[] {
    const last = commands[commands.length - 1];
    if (last === undefined) return [];
    const frontier = this.frontiers.get(serverId);
    if (frontier === undefined || frontier < last.seq) {
      const next = Math.max(last.seq, reach(commands.length - 1 + FRONTIER_RESERVE)?.seq ?? last.seq);
      this.store.setSendFrontier(serverId, next);
      this.frontiers.set(serverId, next);
      this.written.set(serverId, next);
    } else this.advanceEarly(serverId, frontier, commands.length - 1, reach);
    const updated = commands.map((command, i) => {
      const patch = patches[i] as CommandPatch;
      this.held.set(command.id, { current: command, patch });
      return withPatch(command, patch);
    });
    this.scheduleSync();
    return updated;
  }

  /**
   * Once the commands handed out come within half a reserve of the recorded frontier, writes
   * the next one (as far as a synchronous move would reach from here) without waiting for the
   * disk, and counts it once a background fsync has made it durable. A busy drain then never
   * stops for the frontier's fsync; if it reaches the old frontier first, `hold` moves it
   * durably as before. The bound is unchanged: a frontier never reaches more than
   * FRONTIER_RESERVE commands past those handed out when it was written.
   */
  private advanceEarly(
    serverId: string,
    frontier: number,
    lastIndex: number,
    reach: (index: number) => QueuedCommand | undefined,
  ): void {
    if (this.advancing.has(serverId) || this.closed) return;
    const edge = reach(lastIndex + FRONTIER_RESERVE / 2);
    if (edge === undefined || edge.seq <= frontier) return;
    const next = Math.max(edge.seq, reach(lastIndex + FRONTIER_RESERVE)?.seq ?? edge.seq);
    this.store.setSendFrontier(serverId, next, { durable: false });
    this.written.set(serverId, next);
    this.advancing.add(serverId);
    this.store.syncInBackground().then(
      () => {
        this.advancing.delete(serverId);
        // Only if no later write replaced it (a durable move from `hold`, or the clearing at close).
        if (!this.closed && this.written.get(serverId) === next) this.frontiers.set(serverId, next);
      },
      (error: unknown) => {
        this.advancing.delete(serverId);
        this.options.onSyncError(error);
      },
    );
  }

  /** A write of all of this command's mutable fields was made: its held mark is covered. */
  forget(id: string): void {
    this.held.delete(id);
  }

  /**
   * Writes the held marks, not durably (the next fsync covers them). On failure the marks are
   * still held.
   * @throws StoreFailureError, DiskFullError when the store refuses
   */
  flush(): void {
    if (this.held.size === 0) return;
    const held = new Map(this.held);
    try {
      this.store.transaction(
        () => {
          for (const [id, { current, patch }] of this.held) this.store.update(id, patch, current);
          this.held.clear();
        },
        { durable: false },
      );
    } catch (error) {
      // The transaction rolled back: the marks it was to write are still owed.
      for (const [id, mark] of held) {
        if (this.options.isSending(id)) this.held.set(id, mark);
      }
      throw error;
    }
  }

  /**
   * Makes held marks and `durable: false` commits durable within `syncLagMs` (or `delayMs`).
   * The timer never keeps the process alive; `close()` syncs on the way out.
   */
  scheduleSync(delayMs = this.options.syncLagMs): void {
    if (this.timer !== null || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      try {
        this.flush();
      } catch (error) {
        // The marks are still held: try again, less and less often.
        this.options.onSyncError(error);
        this.scheduleSync(Math.min(MAX_RETRY_MS, Math.max(delayMs, 50) * 2));
        return;
      }
      // The fsync itself runs off this thread: it can take milliseconds after a busy spell.
      // A failed fsync poisons the store (every later write is refused), so no retry here.
      this.store.syncInBackground().catch((error: unknown) => {
        this.options.onSyncError(error);
      });
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Stops the timer, writes the held marks and clears the recorded frontiers (every mark is
   * then on disk: nothing was sent beyond what the rows say). Not durable by itself: the
   * caller syncs the store. Idempotent.
   * @throws StoreFailureError, DiskFullError when the store refuses
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      this.flush();
      for (const serverId of this.frontiers.keys()) this.store.setSendFrontier(serverId, null);
    } finally {
      this.held.clear();
      this.frontiers.clear();
      this.written.clear();
    }
  }
}
