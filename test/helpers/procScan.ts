import { readFileSync, readdirSync } from 'node:fs';

/** One live process as /proc shows it (Linux only). */
export interface ProcEntry {
  readonly pid: number;
  /** Process group id. */
  readonly pgid: number;
  /** Scheduler state letter (`R`, `S`, `T`, …; zombies are left out). */
  readonly state: string;
  /** argv (NUL-separated in /proc, split here). */
  readonly argv: readonly string[];
}

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null; // gone meanwhile, or not ours to read
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function entry(pid: number): ProcEntry | null {
  const stat = readProc(pid, 'stat');
  if (stat === null) return null;
  // The command name in parentheses may contain spaces: the fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0] ?? '';
  if (state === 'Z' || state === 'X') return null;
  const argv = (readProc(pid, 'cmdline') ?? '').split('\0').filter((a) => a !== '');
  return { pid, pgid: Number(fields[2]), state, argv };
}

/** Live (not zombie) processes of a process group. Linux only. */
export function groupMembers(pgid: number): ProcEntry[] {
  return allPids()
    .map(entry)
    .filter((e): e is ProcEntry => e !== null && e.pgid === pgid);
}

/**
 * Live processes whose environment has `name` set to one of `values` (e.g.
 * `DESCARTES_AGENT_ID`, which every agent and its descendants inherit). Only processes of
 * this user can be read, which is all an agent server starts. Linux only.
 */
export function processesWithEnv(name: string, values: ReadonlySet<string>): ProcEntry[] {
  const found: ProcEntry[] = [];
  for (const pid of allPids()) {
    const environ = readProc(pid, 'environ');
    if (environ === null) continue;
    const hit = environ
      .split('\0')
      .some((kv) => kv.startsWith(`${name}=`) && values.has(kv.slice(name.length + 1)));
    if (!hit) continue;
    const e = entry(pid);
    if (e) found.push(e);
  }
  return found;
}

/** Live processes whose argv contains every one of `parts` as a whole argument. Linux only. */
export function processesWithArgs(...parts: string[]): ProcEntry[] {
  return allPids()
    .map(entry)
    .filter((e): e is ProcEntry => e !== null && parts.every((p) => e.argv.includes(p)));
}
