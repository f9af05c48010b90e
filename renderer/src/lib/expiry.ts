/** The "expires in" choices of command forms: a queued command is not sent after its deadline. */

export const EXPIRY_CHOICES = [
  { label: 'never', ms: null },
  { label: '1 min', ms: 60_000 },
  { label: '10 min', ms: 600_000 },
  { label: '1 h', ms: 3_600_000 },
  { label: '24 h', ms: 86_400_000 },
] as const;

/** The `expiresAt` (ms since the epoch) for a choice, or undefined for "never". */
export const expiresAtFrom = (ms: number | null, now: number = Date.now()): number | undefined =>
  ms === null ? undefined : now + ms;
