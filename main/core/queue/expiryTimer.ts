/**
 * Wakes `CommandQueue` when the earliest queued command's expiry is due, whether or not its
 * server is connected (docs/ARCHITECTURE.md §3.5): an expired command must stop counting toward
 * the server's limit even if nothing is ever sent to it. The send path still checks expiry
 * itself, so a command is never handed out after its deadline between two wake-ups.
 */

/** setTimeout's longest delay (ms); a later deadline is reached in several waits. */
const MAX_DELAY_MS = 2_147_483_647;

export interface ExpiryTimerOptions {
  /** The queue's clock, ms since the epoch. */
  readonly now: () => number;
  /** Runs when the armed deadline is reached. */
  readonly onDue: () => void;
}

export class ExpiryTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The deadline the timer is set for (ms since the epoch), or null. */
  private armedFor: number | null = null;
  private stopped = false;

  constructor(private readonly options: ExpiryTimerOptions) {}

  /**
   * Makes sure `onDue` runs at `deadline` (ms since the epoch) or earlier; a timer already set
   * for an earlier deadline is kept. Null does nothing. The timer never keeps the process alive.
   */
  arm(deadline: number | null): void {
    if (deadline === null || this.stopped) return;
    if (this.armedFor !== null && this.armedFor <= deadline) return;
    this.clear();
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, deadline - this.options.now()));
    this.armedFor = deadline;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedFor = null;
      this.options.onDue();
    }, delay);
    this.timer.unref();
  }

  /** Clears the timer for good (the queue closed). Idempotent. */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = null;
  }
}
