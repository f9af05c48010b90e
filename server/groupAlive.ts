import { readFileSync, readdirSync } from 'node:fs';

/**
 * Whether process group `pgid` still has a member that runs (POSIX).
 *
 * `kill(-pgid, 0)` also succeeds while the only members left are zombies, and an orphaned
 * zombie is reaped by whatever runs as pid 1: in containers and micro-VMs that may take
 * seconds (measured here: about 2 s) or never happen. A group of zombies runs nothing, so
 * on Linux a group `kill` still finds is confirmed from /proc, where a zombie's state is
 * `Z` (or `X` while it is torn down). Elsewhere the signal's answer stands.
 * EPERM counts as alive: a member we may not signal is still a member.
 * Never throws.
 */
export function groupAlive(pgid: number, platform: NodeJS.Platform = process.platform): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return platform !== 'linux' || hasRunningMember(pgid);
}

function hasRunningMember(pgid: number): boolean {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true; // no /proc to ask: trust the signal
  }
  for (const name of names) {
    const code = name.charCodeAt(0);
    if (code < 48 || code > 57) continue; // only the numeric entries are processes
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // The command name in parentheses may hold spaces: the fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 5);
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}
