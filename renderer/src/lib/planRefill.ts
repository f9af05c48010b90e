/**
 * Where a gap in one agent's live tail goes in a merged log (stores/mergedLog.ts). The tail
 * lost chunks; the server sent the agent's newest stored lines. The log already shows the
 * lines from before the gap and those that arrived after it; the refill is what the store
 * holds beyond the first and not among the second.
 */
import type { LineStreamName } from '../../../shared/domain/numberedOutput';

/** A line of one agent as the log shows it. */
export interface TailLine {
  readonly stream: LineStreamName;
  readonly text: string;
}

/** A stored line; `stream` is null when the server did not say (a server without line numbers). */
export interface StoredLine {
  readonly stream: LineStreamName | null;
  readonly text: string;
}

/** What to add after the gap note. */
export interface Refill {
  /** Stored lines the log does not show yet, oldest first. */
  readonly lines: readonly StoredLine[];
  /**
   * False when the stored lines could not be lined up with the shown ones for certain (runs of
   * identical lines, or a gap longer than the stored page): the note must say so.
   */
  readonly exact: boolean;
}

/** How many shown lines on each side of the gap are compared with the stored lines. */
export const REFILL_PROBE = 8;

function same(shown: TailLine, stored: StoredLine | undefined): boolean {
  return (
    stored !== undefined &&
    shown.text === stored.text &&
    (stored.stream === null || stored.stream === shown.stream)
  );
}

/** Whether `stored[at…]` starts with `probe`. */
function matchesAt(stored: readonly StoredLine[], at: number, probe: readonly TailLine[]): boolean {
  return probe.every((line, k) => same(line, stored[at + k]));
}

/**
 * Plans the refill of one agent's gap. Lines are compared by text and, where the server
 * reported it, stream. The shown lines before the gap are looked up in `stored` (their last
 * {@link REFILL_PROBE}), then the first lines shown after it; the stored lines between the two were
 * lost, and stored lines beyond the ones shown after the gap were dropped with the chunks that
 * waited behind the gap, so they are added too.
 * @param before the agent's lines shown before the gap, oldest first
 * @param after the agent's lines shown since the gap, oldest first
 * @param stored the agent's newest stored lines, oldest first
 */
export function planRefill(
  before: readonly TailLine[],
  after: readonly TailLine[],
  stored: readonly StoredLine[],
): Refill {
  const head = before.slice(-REFILL_PROBE);
  const lead = after.slice(0, REFILL_PROBE);
  /** Where the lines shown after the gap begin in `stored`, searching from `from`; -1: nowhere. */
  const resumeFrom = (from: number): number => {
    for (let at = from; at + lead.length <= stored.length; at++) if (matchesAt(stored, at, lead)) return at;
    return -1;
  };
  const refill = (from: number, resume: number, exact: boolean): Refill => ({
    lines: [...stored.slice(from, resume), ...stored.slice(resume + after.length)],
    exact,
  });
  // Every place the shown lines before the gap could end at, with the lines after it following.
  const placements: { end: number; resume: number }[] = [];
  if (head.length > 0) {
    for (let end = stored.length; end >= head.length; end--) {
      if (!matchesAt(stored, end - head.length, head)) continue;
      const resume = resumeFrom(end);
      if (resume >= 0) placements.push({ end, resume });
    }
  }
  const [latest] = placements;
  // One placement: the gap is known to the line. Several (runs of identical lines): the latest
  // is taken, which refills the fewest lines, and the note says it may be short.
  if (latest) return refill(latest.end, latest.resume, placements.length === 1);
  const resume = resumeFrom(0);
  if (resume < 0) return { lines: [], exact: false };
  // Before the gap unknown: with no line shown before it, stored lines before the resume point
  // may predate the tail (not lost); with lines shown but not found, the gap outran the page.
  return refill(head.length === 0 ? resume : 0, resume, false);
}
