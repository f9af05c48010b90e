import type { CommandOutcome, QueuedCommand } from '../../../shared/domain/command';

/**
 * How long after a command's last send the console may still resend it by itself (same
 * `request_id`) to a server that advertises `dedupe`: 15 minutes. With at most three sends,
 * the last automatic resend reaches the server within 30 minutes of the first, well inside
 * the hour a server keeps every reply (`server/dedupeRetention.ts`). Later, the outcome stays
 * unknown for the operator to decide.
 */
export const RESEND_WINDOW_MS = 15 * 60 * 1000;

/** Why a command sent before a server lost its reply cache is not resent. */
export const CACHE_LOST_REASON =
  'sent, but the server has since lost its record of answered requests (its dedupe epoch ' +
  'changed, e.g. its state dir was reset), so a resend could run it twice: not resent automatically';

/** Why a command last sent too long ago is not resent. */
export const RESEND_WINDOW_PASSED_REASON =
  'sent, but no reply came and more than 15 minutes have passed since; the server may no ' +
  'longer remember it, so it was not resent automatically';

/** The unknown outcome of a command that must never be resent automatically. */
export function notResent(reason: string): Extract<CommandOutcome, { kind: 'unknown' }> {
  return { kind: 'unknown', reason, resend: false };
}

/**
 * Whether the dispatcher may resend this command with its `request_id` by itself: its outcome
 * was not marked "never resend", and its last send is within the window.
 * @param now ms since the epoch
 */
export function mayResend(command: QueuedCommand, now: number): boolean {
  if (command.outcome?.kind === 'unknown' && command.outcome.resend === false) return false;
  // No sentAt: a dead process may have sent it under a write-behind mark that never reached
  // the disk (CommandQueue's send frontier). That send was at most one sync lag before the
  // crash; updatedAt (when the next start found it) is the closest time the queue has.
  const sentAt = command.sentAt ?? command.updatedAt;
  return now - sentAt <= RESEND_WINDOW_MS;
}
