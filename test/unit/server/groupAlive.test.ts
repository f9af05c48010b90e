import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive } from '../../../server/groupAlive';
import { waitUntil } from '../../helpers/wait';

const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** The first line a child prints. */
function firstLine(child: ChildProcess): Promise<string> {
  if (!child.stdout) throw new Error('no stdout');
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve) => lines.once('line', resolve));
}

function signalReaches(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function zombieState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '';
}

describe.skipIf(process.platform !== 'linux')('groupAlive (real process groups)', () => {
  it('a group with a running member is alive; a group that never existed is not', () => {
    const child = spawn('/bin/sh', ['-c', 'sleep 100'], { detached: true, stdio: 'ignore' });
    started.push(child);
    expect(groupAlive(child.pid ?? 0)).toBe(true);
    expect(groupAlive(2 ** 22 + 12345)).toBe(false);
  });

  it('a group whose only member is an unreaped zombie is not alive, though kill(-pgid, 0) still reaches it', async () => {
    // The parent forks a child that moves to its own group and exits at once; the parent
    // never waits for it, so the child stays a zombie, the lone member of its group.
    const parent = spawn(
      'perl',
      ['-e', '$| = 1; my $p = fork // die; if ($p == 0) { setpgrp(0, 0); exit 0 } print "$p\\n"; sleep 100'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    started.push(parent);
    const pgid = Number(await firstLine(parent));
    await waitUntil(() => (zombieState(pgid) === 'Z' ? true : undefined), {
      timeoutMs: 5000,
      what: 'zombie',
    });
    expect(signalReaches(pgid)).toBe(true);
    expect(groupAlive(pgid)).toBe(false);
    // Off Linux the signal's answer stands.
    expect(groupAlive(pgid, 'darwin')).toBe(true);
  });
});
