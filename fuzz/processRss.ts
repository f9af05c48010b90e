/**
 * The resident set size of another process, for the fuzzers' memory checks: Linux reads
 * `/proc/<pid>/status` (VmRSS); elsewhere `ps -o rss=`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * RSS of process `pid` in bytes, or null when it cannot be read (the process is gone, or
 * neither /proc nor `ps` is available).
 */
export function processRssBytes(pid: number): number | null {
  if (process.platform === 'linux') {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
      return kb === undefined ? null : Number(kb) * 1024;
    } catch {
      return null;
    }
  }
  try {
    const kb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    return Number.isFinite(kb) && kb > 0 ? kb * 1024 : null;
  } catch {
    return null;
  }
}
