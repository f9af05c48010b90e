import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentWatchdog } from '../../../server/agentWatchdog';
import { POSIX_WATCHDOG_SCRIPT, WATCHDOG_NAME, watchdogCommand } from '../../../server/watchdogCommand';
import { groupMembers, processesWithArgs } from '../../helpers/procScan';
import { waitUntil } from '../../helpers/wait';

/** Waits until `check()` is true (waitUntil stops at any value but undefined). */
function until(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<true> {
  return waitUntil(() => (check() ? true : undefined), { timeoutMs, intervalMs: 10, what });
}

/** Children of this test that must not outlive it. */
const groups: ChildProcess[] = [];
const watchdogs: AgentWatchdog[] = [];

/** A detached shell (its own process group, like an agent) running `script`. */
function startGroup(script: string): number {
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  groups.push(child);
  if (child.pid === undefined) throw new Error('spawn failed');
  return child.pid;
}

function liveCount(pgid: number): number {
  return groupMembers(pgid).length;
}

function makeWatchdog(options: ConstructorParameters<typeof AgentWatchdog>[0] = {}): {
  wd: AgentWatchdog;
  logs: string[];
} {
  const logs: string[] = [];
  const wd = new AgentWatchdog({ log: (m) => logs.push(m), ...options });
  watchdogs.push(wd);
  return { wd, logs };
}

afterEach(() => {
  for (const wd of watchdogs.splice(0)) wd.close();
  for (const child of groups.splice(0)) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe.skipIf(process.platform !== 'linux')('the POSIX watchdog script, run by a real shell', () => {
  // dash is Debian's /bin/sh; bash --posix stands in for macOS, whose /bin/sh is bash.
  it.each([['/bin/sh'], ['bash']])(
    'with %s: kills the groups still listed at end-of-file, spares released ones, ignores garbage',
    async (shell) => {
      const kept = startGroup('sleep 100 & sleep 100 & wait');
      const released = startGroup('sleep 100 & wait');
      await until(() => liveCount(kept) === 3 && liveCount(released) === 2, 5000);
      const args =
        shell === 'bash' ? ['--posix', '-c', POSIX_WATCHDOG_SCRIPT] : ['-c', POSIX_WATCHDOG_SCRIPT];
      const wd = spawn(shell, [...args, WATCHDOG_NAME, '0'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      wd.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => wd.once('exit', resolve));
      wd.stdin.end(
        [`+${kept}`, `+${released}`, '+12x', '+', 'hello', '-999999', `+${kept}`, `-${released}`, ''].join(
          '\n',
        ),
      );
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
      await until(() => liveCount(kept) === 0, 2000);
      expect(liveCount(released)).toBe(2);
    },
  );
});

describe.skipIf(process.platform !== 'linux')(
  'AgentWatchdog (real /bin/sh watchdog, real process groups)',
  () => {
    it('kills every guarded group, grandchildren included, when its pipe closes, and exits', async () => {
      const { wd } = makeWatchdog();
      expect(await wd.prepare()).toBeNull();
      const watchdogPid = wd.pid;
      expect(watchdogPid).toBeGreaterThan(0);
      // The watchdog runs in its own group, apart from this process and from the agents.
      expect(processesWithArgs(WATCHDOG_NAME, String(process.pid)).map((e) => e.pid)).toContain(watchdogPid);
      const a = startGroup('sleep 100 & sleep 100 & wait');
      const b = startGroup('sh -c "sleep 100" & wait');
      wd.guard(a);
      wd.guard(b);
      await until(() => liveCount(a) === 3 && liveCount(b) >= 2, 5000);
      const closedAt = Date.now();
      wd.close();
      await until(() => liveCount(a) + liveCount(b) === 0, 2000);
      await until(() => watchdogPid !== undefined && groupMembers(watchdogPid).length === 0, 2000);
      expect(Date.now() - closedAt).toBeLessThan(2000);
    });

    it('an agent whose main process exited stays guarded while its group has members', async () => {
      const { wd } = makeWatchdog({ releasePollMs: 50 });
      expect(await wd.prepare()).toBeNull();
      // The leader exits at once and leaves a background sleep in its group.
      const pgid = startGroup('sleep 100 & exit 0');
      wd.guard(pgid);
      await until(
        () => groupMembers(pgid).every((e) => e.argv[0] === 'sleep') && liveCount(pgid) === 1,
        5000,
      );
      wd.leaderExited(pgid);
      expect(wd.isGuarded(pgid)).toBe(true);
      const [leftover] = groupMembers(pgid);
      if (leftover === undefined) throw new Error('no leftover process');
      process.kill(leftover.pid, 'SIGKILL');
      await until(() => !wd.isGuarded(pgid), 2000);
      expect(wd.guardedCount).toBe(0);
    });

    it('releases an agent whose group is empty when its main process exits', async () => {
      const { wd } = makeWatchdog();
      expect(await wd.prepare()).toBeNull();
      const child = spawn('/bin/sh', ['-c', 'exit 0'], { detached: true, stdio: 'ignore' });
      const pid = child.pid ?? 0;
      wd.guard(pid);
      await new Promise((resolve) => child.once('exit', resolve));
      wd.leaderExited(pid);
      expect(wd.isGuarded(pid)).toBe(false);
    });

    it('starts a watchdog that died again and hands it every guarded group', async () => {
      const { wd, logs } = makeWatchdog({ restartDelayMs: 50 });
      expect(await wd.prepare()).toBeNull();
      const first = wd.pid ?? 0;
      const pgid = startGroup('sleep 100 & wait');
      wd.guard(pgid);
      await until(() => liveCount(pgid) === 2, 5000);
      process.kill(first, 'SIGKILL');
      await until(() => wd.pid !== undefined && wd.pid !== first, 3000);
      expect(logs.join('\n')).toMatch(/agent watchdog \(pid \d+\) exited \(SIGKILL\); starting it again/);
      expect(liveCount(pgid)).toBe(2);
      wd.close();
      await until(() => liveCount(pgid) === 0, 2000);
    });

    it('refuses agents when the watchdog cannot start (POSIX), and says why', async () => {
      const { wd } = makeWatchdog({ command: { file: '/nonexistent/descartes-sh', args: [] } });
      expect(await wd.prepare()).toBe('cannot start the agent watchdog (/nonexistent/descartes-sh): ENOENT');
      expect(wd.required).toBe(true);
    });

    it('on Windows a watchdog that cannot start is logged once and agents start anyway', async () => {
      const { wd, logs } = makeWatchdog({
        platform: 'win32',
        command: { file: '/nonexistent/powershell.exe', args: [] },
      });
      expect(await wd.prepare()).toBeNull();
      expect(await wd.prepare()).toBeNull();
      expect(logs).toEqual([
        "cannot start the agent watchdog (/nonexistent/powershell.exe): ENOENT; agents' child processes may outlive a crash of the server",
      ]);
    });

    it('is closed for good after close()', async () => {
      const { wd } = makeWatchdog();
      wd.close();
      expect(await wd.prepare()).toBe('the agent watchdog is closed');
    });
  },
);

describe('watchdogCommand', () => {
  it('POSIX: /bin/sh -c <script> with its name and the server pid as $0 and $1', () => {
    expect(watchdogCommand('linux', 4242)).toEqual({
      file: '/bin/sh',
      args: ['-c', POSIX_WATCHDOG_SCRIPT, WATCHDOG_NAME, '4242'],
    });
    expect(watchdogCommand('darwin', 7)).toEqual(watchdogCommand('linux', 7));
  });

  it('Windows (untested there): Windows PowerShell from SystemRoot, the script as -EncodedCommand', () => {
    const { file, args } = watchdogCommand('win32', 4242, 'D:\\Win');
    expect(file).toBe('D:\\Win\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(args.slice(0, 4)).toEqual(['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand']);
    const script = Buffer.from(args[4] ?? '', 'base64').toString('utf16le');
    expect(script.startsWith(`# ${WATCHDOG_NAME} 4242\n`)).toBe(true);
    // Reads the pipe to its end, then walks the agents' trees and stops them.
    expect(script).toContain('[Console]::In.ReadLine()');
    expect(script).toContain("'^\\+(\\d+)$'");
    expect(script).toContain("'^-(\\d+)$'");
    expect(script).toContain('Get-CimInstance Win32_Process');
    expect(script).toContain('Stop-Process -Id $node.Id -Force');
  });
});
