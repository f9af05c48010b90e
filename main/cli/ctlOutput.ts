/** Exit codes and JSON output of `npm run ctl` (documented in its `--help`). */

/** How a ctl run ended. */
export const EXIT = {
  /** Done, and the server reported success (or healthy). */
  ok: 0,
  /** An error: the server answered with success=false (its reply is still printed), or a local one. */
  error: 1,
  /** The command line is wrong. */
  usage: 2,
  /** Without --queue: the server did not answer a health check within --connect-timeout. Nothing was sent. */
  offline: 3,
  /**
   * Not confirmed: with --queue, stored but not delivered within --wait (a later owner of the
   * queue delivers it); or sent without a reply in time (outcome unknown: it may have run).
   */
  unconfirmed: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * One JSON document. Integers beyond 2^53 (bigint) become strings, byte arrays become arrays
 * of numbers, so any protocol message prints.
 */
export function toJson(value: unknown, pretty: boolean): string {
  return `${JSON.stringify(value, replacer, pretty ? 2 : undefined)}\n`;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Uint8Array) return Array.from(value);
  return value;
}
