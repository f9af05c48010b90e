/**
 * How long the server remembers a mutating request's reply, so a resend with the same
 * `request_id` is answered from memory instead of running twice. One definition for the
 * in-memory reply cache and the durable journal, so both keep and drop the same entries.
 *
 * The console resends by itself only within `CONSOLE_RESEND_WINDOW_MS` of a command's last
 * send and at most three sends in all (see `main/core/queue/resendPolicy.ts`), so every
 * automatic resend reaches the server well inside `ttlMs` of the first one.
 */
export interface DedupeRetention {
  /** Entries younger than this (ms since they began) are kept… */
  readonly ttlMs: number;
  /** …and so are the newest `minEntries`, whatever their age. */
  readonly minEntries: number;
  /**
   * Hard cap (memory bound): beyond it the oldest entries go even when young. Dropping a
   * young entry loses part of the cache, so the journal then changes its dedupe epoch.
   */
  readonly maxEntries: number;
}

/** Replies are kept at least one hour (and the newest 10 000), at most 200 000 in all. */
export const DEDUPE_RETENTION: DedupeRetention = {
  ttlMs: 60 * 60 * 1000,
  minEntries: 10_000,
  maxEntries: 200_000,
};

/** What to do with the oldest entry of a cache holding `size` entries. */
export type EvictionVerdict = 'keep' | 'expired' | 'capped';

/**
 * The retention rule, applied to the oldest entry (entries are visited oldest first, and the
 * first `keep` ends the walk).
 * @param beganAt when the entry began, ms since the epoch
 * @param now the current time, ms since the epoch
 * @returns `capped` when the cap forces out an entry still inside `ttlMs` (a loss),
 *   `expired` when it is simply old, `keep` otherwise
 */
export function evictionVerdict(
  size: number,
  beganAt: number,
  now: number,
  retention: DedupeRetention,
): EvictionVerdict {
  const old = beganAt < now - retention.ttlMs;
  if (size > retention.maxEntries) return old ? 'expired' : 'capped';
  if (size > retention.minEntries && old) return 'expired';
  return 'keep';
}
