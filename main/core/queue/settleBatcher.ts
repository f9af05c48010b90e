/**
 * One settle transaction for every dispatcher of a queue (docs/ARCHITECTURE.md §3.3): each
 * dispatcher that received replies asks to be flushed, and one flush takes every dispatcher's
 * step and commits them together. With a hundred servers draining at once that is one
 * transaction instead of a hundred.
 *
 * When: on the next `setImmediate`, unless every waiting step may wait (dedupe servers, whose
 * freed slots are refilled without waiting for the settle) and a flush ran less than `gapMs`
 * ago; then at `gapMs` after that flush. A lone reply is thus settled in the next turn, and a
 * drain commits at most once per `gapMs` with all the replies of that span: a commit costs as
 * much as about a dozen settled rows, so this is most of what a drain spends on SQLite.
 */
import type { SettleItem } from './commandQueue';
import type { QueuedCommand } from '../../../shared/domain/command';

/** What one dispatcher settles and sends in a shared flush. */
export interface SettleStep {
  readonly serverId: string;
  readonly items: readonly SettleItem[];
  /** In-flight limit for `serverId` (0: settle only, send nothing). */
  readonly window: number;
  /**
   * False only for a server that deduplicates by request_id (see `settleAndSendNext`); the
   * shared transaction is fsync'd when any step of it asks for that.
   */
  readonly durable: boolean;
}

/** What one step changed: the commands settled and those now sending, each in its order. */
export interface SettleStepResult {
  readonly settled: QueuedCommand[];
  readonly sending: QueuedCommand[];
}

/** A dispatcher, as the batcher sees it. */
export interface SettleParticipant {
  /** Takes what it has to settle now; null when nothing (or when it was disposed meanwhile). */
  take(): SettleStep | null;
  /** Its step was committed (and announced by the queue): send and report. Should not throw. */
  done(result: SettleStepResult): void;
  /** The shared transaction failed (nothing of it was written), or `done` threw. Must not throw. */
  failed(error: unknown): void;
}

/** Default spacing, ms, of flushes that may wait (see {@link SettleBatcher}). */
export const SETTLE_GAP_MS = 5;

export class SettleBatcher {
  private readonly waiting = new Set<SettleParticipant>();
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** performance.now() of the last flush; -Infinity before the first. */
  private lastFlush = Number.NEGATIVE_INFINITY;

  /**
   * @param commit writes the steps in ONE transaction, returning one result per step in
   *   order; throws when nothing was written
   * @param gapMs least time, ms, between a flush and the next one of steps that may wait
   */
  constructor(
    private readonly commit: (steps: readonly SettleStep[]) => SettleStepResult[],
    private readonly gapMs = SETTLE_GAP_MS,
  ) {}

  /**
   * Flushes `participant` with every other one waiting: on the next `setImmediate` when
   * `mayWait` is false (a step that holds its window slots until committed) or when no flush
   * ran in the last `gapMs`; otherwise `gapMs` after the last flush.
   */
  schedule(participant: SettleParticipant, mayWait = false): void {
    this.waiting.add(participant);
    if (this.immediate !== null) return;
    const wait = mayWait ? this.lastFlush + this.gapMs - performance.now() : 0;
    if (wait <= 0) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.immediate = setImmediate(() => {
        this.flush();
      });
      return;
    }
    this.timer ??= setTimeout(() => {
      this.flush();
    }, wait);
  }

  /** Commits what every waiting participant has now, in one transaction; then tells each. */
  flush(): void {
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
    this.lastFlush = performance.now();
    const participants = [...this.waiting];
    this.waiting.clear();
    const taken: SettleParticipant[] = [];
    const steps: SettleStep[] = [];
    for (const participant of participants) {
      const step = participant.take();
      if (step === null) continue;
      taken.push(participant);
      steps.push(step);
    }
    if (steps.length === 0) return;
    let results: SettleStepResult[];
    try {
      results = this.commit(steps);
    } catch (error) {
      for (const participant of taken) participant.failed(error);
      return;
    }
    taken.forEach((participant, i) => {
      try {
        participant.done(results[i] ?? { settled: [], sending: [] });
      } catch (error) {
        // One dispatcher's failure to send must not keep the others from sending theirs.
        participant.failed(error);
      }
    });
  }
}
