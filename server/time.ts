import type { SystemTime } from '../shared/protocol';

/** A wall-clock time in ms since the epoch as serde's `SystemTime`. */
export function toSystemTime(ms: number): SystemTime {
  const secs = Math.floor(ms / 1000);
  return {
    secs_since_epoch: secs,
    nanos_since_epoch: Math.min(999_999_999, Math.floor((ms - secs * 1000) * 1e6)),
  };
}

/** Now as a `SystemTime` (millisecond precision). */
export function systemTimeNow(): SystemTime {
  return toSystemTime(Date.now());
}
