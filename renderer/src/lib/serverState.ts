/**
 * How a server's connection state reads, in one place for every view that shows it (the
 * servers view and the agents and agent headers; docs/ARCHITECTURE.md §4.1). The console never
 * shows an unreachable server as anything but offline, and never a list as live that is not.
 */
import type { ServerStatus } from '../../../shared/domain/server';
import { assertNever } from '../../../shared/domain/command';
import { formatAgo, formatClock, formatDuration } from './format';

export type ServerStateTone = 'ok' | 'info' | 'warn' | 'error';

/** A server's state as words, for one moment (`now`). */
export interface ServerStateView {
  /** The state's name: `online`, `degraded`, `connecting` (first contact only), `offline`, `closed`. */
  readonly label: ServerStatus['state'];
  readonly tone: ServerStateTone;
  /** While offline: "retrying in 12 s" or "retrying now…"; otherwise null. */
  readonly retry: string | null;
  /** "last heard 14:02:11 (3 min ago)", or "never heard from" for a server never reached. */
  readonly lastHeard: string;
  /** Why it is not online, as the console knows it; null when online or unknown. */
  readonly reason: string | null;
}

const TONES: Record<ServerStatus['state'], ServerStateTone> = {
  online: 'ok',
  connecting: 'info',
  degraded: 'warn',
  offline: 'error',
  closed: 'error',
};

/** "last heard 14:02:11 (3 min ago)", or "never heard from". */
export function lastHeardText(lastHeardAt: number | null, now: number): string {
  if (lastHeardAt === null) return 'never heard from';
  return `last heard ${formatClock(lastHeardAt)} (${formatAgo(now, lastHeardAt)})`;
}

/** The state line of `status` at `now` (ms since the epoch). */
export function describeServerState(status: ServerStatus, now: number): ServerStateView {
  let retry: string | null = null;
  if (status.state === 'offline') {
    if (status.retrying) retry = 'retrying now…';
    else if (status.nextAttemptAt !== null)
      // Rounded up: "retrying in 0 s" would read as now while the attempt is still ahead.
      retry = `retrying in ${formatDuration(Math.ceil(Math.max(0, status.nextAttemptAt - now) / 1000) * 1000)}`;
  }
  return {
    label: status.state,
    tone: TONES[status.state],
    retry,
    lastHeard: lastHeardText(status.lastHeardAt, now),
    reason: status.state === 'online' ? null : status.lastError,
  };
}

/**
 * What a list of that server's data (its agents, one agent's state) may claim while the server
 * is not online: the time it is "as of", and that commands wait in the queue. Null when online.
 */
export function staleDataNote(status: ServerStatus): string | null {
  switch (status.state) {
    case 'online':
      return null;
    case 'degraded':
      return 'The server is slow to answer: what is shown may be behind. Commands you issue are queued until it answers.';
    case 'connecting':
      return 'Not connected yet: nothing shown here comes from the server yet. Commands you issue are queued until it answers.';
    case 'offline':
    case 'closed':
      return status.lastHeardAt === null
        ? 'The server is offline and was never reached: nothing shown here comes from it. Commands you issue are queued until it is back.'
        : `The server is offline: what is shown is as of ${formatClock(status.lastHeardAt)}, not live. Commands you issue are queued until it is back.`;
    default:
      return assertNever(status.state);
  }
}
