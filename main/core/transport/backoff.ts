/**
 * Capped exponential backoff with jitter ("equal jitter"): half of the exponential delay is
 * fixed, half random, so many consoles reconnecting to one restarted server spread out
 * while none waits less than half its step.
 *
 * @param attempt 0 for the first retry
 * @param initialMs delay of the first retry, ms
 * @param maxMs cap, ms
 * @param random a source in [0, 1)
 * @returns the delay before the next attempt, in ms
 */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}
