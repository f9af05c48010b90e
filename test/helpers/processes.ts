import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The fields of `/proc/<pid>/stat` from the third on (`[0]` is the state, `[11]` utime, `[12]`
 * stime), or null when no such process exists (or not on Linux).
 */
export function procStatFields(pid: number): string[] | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name in parentheses may contain spaces: the other fields follow the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * The one-letter scheduler state of `pid` from `/proc/<pid>/stat` (`R`, `S`, `T` stopped,
 * `Z` zombie, …), or null when no such process exists. Linux only.
 */
export function processState(pid: number): string | null {
  return procStatFields(pid)?.[0] || null;
}

/** Whether `pid` runs (a zombie or a missing process counts as not running). */
export function isProcessRunning(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== 'Z' && state !== 'X';
}

/** Whether `pid` is stopped by a signal (SIGSTOP/SIGTSTP: state `T`). */
export function isProcessStopped(pid: number): boolean {
  return processState(pid) === 'T';
}

/**
 * Sends `signal` to `child` and waits for `exited` (the child's exit, however the caller
 * records it); sends SIGKILL when it has not exited after `timeoutMs` ms.
 */
export async function stopChild<T>(
  child: ChildProcess,
  exited: Promise<T>,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<T> {
  child.kill(signal);
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
  }, timeoutMs);
  const info = await exited;
  clearTimeout(timer);
  return info;
}
