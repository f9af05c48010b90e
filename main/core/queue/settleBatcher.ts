/**
 * One settle transaction per turn of the event loop for every dispatcher of a queue
 * (docs/ARCHITECTURE.md §3.3): each dispatcher that received replies asks to be flushed, and
 * one `setImmediate` takes every dispatcher's step and commits them together. With a hundred
 * servers draining at once that is one transaction per turn instead of a hundred.
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

export class SettleBatcher {
  private readonly waiting = new Set<SettleParticipant>();
  private scheduled = false;

  /**
   * @param commit writes the steps in ONE transaction, returning one result per step in
   *   order; throws when nothing was written
   */
  constructor(private readonly commit: (steps: readonly SettleStep[]) => SettleStepResult[]) {}

  /** Flushes `participant` with every other one waiting, on the next `setImmediate`. */
  schedule(participant: SettleParticipant): void {
    this.waiting.add(participant);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.flush();
    });
  }

  /** Commits what every waiting participant has now, in one transaction; then tells each. */
  flush(): void {
    this.scheduled = false;
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
