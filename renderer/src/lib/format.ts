/** Formatting helpers for times, ids and counts as the console shows them. */
import type { SystemTime, WireInt } from '../../../shared/protocol/types';

/** A wire integer as a number (bigints beyond 2^53 lose precision, fine for display). */
export const toNumber = (value: WireInt | null | undefined): number | null =>
  value === null || value === undefined ? null : typeof value === 'bigint' ? Number(value) : value;

/** A protocol `SystemTime` as milliseconds since the epoch. */
export const systemTimeToMs = (time: SystemTime): number =>
  (toNumber(time.secs_since_epoch) ?? 0) * 1000 + Math.floor(time.nanos_since_epoch / 1e6);

/**
 * "never", "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago" for a past time in ms
 * since the epoch, relative to `now` (ms). A time in the future reads "just now".
 */
export function formatAgo(now: number, then: number | null): string {
  if (then === null) return 'never';
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 1) return 'just now';
  if (seconds < 120) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** A duration in ms as "45 s", "12 min 3 s", "2 h 5 min". Negative durations read "0 s". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local date and time of ms since the epoch, e.g. "2024-05-01 14:03:22". */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(ms)}`;
}

/** Local time of day of ms since the epoch, e.g. "14:03:22". */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** First 8 characters of a UUID, as the console abbreviates ids. */
export const shortId = (id: string): string => id.slice(0, 8);

/**
 * One formatter for every count the console shows: `Number#toLocaleString` builds a new ICU
 * formatter on each call, which costs more than the rest of a row's render under a status flood.
 */
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

/** A count with thousands separators, e.g. "10,000". */
export const formatCount = (count: number): string => COUNT_FORMAT.format(count);

/** "1 agent", "10,000 agents". */
export const plural = (count: number, word: string): string =>
  `${formatCount(count)} ${word}${count === 1 ? '' : 's'}`;

/** `text` with its first letter upper-cased, to start a sentence with a lower-case clause. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
