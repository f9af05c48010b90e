/**
 * What ctl says on stderr when the queue it opened had to be repaired: a database file moved
 * aside (with the notice's own words: where it went, what was kept), and commands put in
 * quarantine. Said once, by the run that made the repair; `ctl queue list` shows the lasting
 * record ("notices", "quarantined").
 */
import type { CommandQueue } from '../core/queue/commandQueue';
import type { CtlIo } from './ctlRequests';

/** Most quarantine entries named one by one on stderr; the rest are counted. */
const NAMED = 5;

/** Writes one stderr line per repair this process's queue made since it opened (none: nothing). */
export function reportRepairs(queue: CommandQueue, io: CtlIo): void {
  const { movedAside, quarantinedEntries } = queue.repairs;
  if (movedAside.length === 0 && quarantinedEntries.length === 0) return;
  const { notices, quarantined } = queue.health();
  for (const path of movedAside) {
    const notice = notices.find((n) => n.movedTo === path);
    io.err(
      `ctl: ${notice?.message ?? `the command database could not be used and was moved to ${path}`} ` +
        "(shown by 'ctl queue list' until 'ctl queue dismiss <notice>')\n",
    );
  }
  if (quarantinedEntries.length === 0) return;
  const made = new Set(quarantinedEntries);
  const entries = quarantined.filter((q) => made.has(q.entry));
  const named = entries
    .slice(0, NAMED)
    .map((q) => `entry ${q.entry}${q.id === null ? '' : ` (${q.id})`}: ${q.reason}`);
  const more = quarantinedEntries.length - named.length;
  io.err(
    `ctl: ${quarantinedEntries.length} stored command(s) could not be read and were put in quarantine ` +
      `(kept, never sent): ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}. ` +
      "See 'ctl queue list'; 'ctl queue discard <entry>' deletes one.\n",
  );
}
