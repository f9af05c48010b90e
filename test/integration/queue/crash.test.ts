/**
 * kill -9 of the process that owns the queue, then restart (docs/ARCHITECTURE.md §3.1, "Durable"):
 * every enqueue that had resolved is there exactly once, in order, and is delivered once.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir } from '../../helpers/tempDir';
import type { TempDir } from '../../helpers/tempDir';
import { CommandQueue } from '../../../main/core/queue/commandQueue';
import { QueueLockedError } from '../../../main/core/queue/queueErrors';
import { ok, openStore } from '../../unit/main/core/queue/queueTestKit';

const FIXTURE = fileURLToPath(new URL('./fixtures/queueOwner.ts', import.meta.url));
const BURST = 2000;
/** How many resolved enqueues to wait for before the kill, per trial (spread over the burst). */
const KILL_AFTER = [1, 150, 333, 500, 777, 1000, 1234, 1500, 1750, 1900];

let temp: TempDir;
const children: ChildProcess[] = [];

beforeAll(async () => {
  temp = await createTempDir('descartes-crash-');
});

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await temp.remove();
});

function startOwner(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

/** Collects complete stdout lines; calls `onLine` with the count after each one. */
function readLines(
  child: ChildProcess,
  onLine: (lines: string[]) => void,
): { lines: string[]; stderr: () => string } {
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    partial += chunk;
    let newline = partial.indexOf('\n');
    while (newline >= 0) {
      lines.push(partial.slice(0, newline));
      partial = partial.slice(newline + 1);
      onLine(lines);
      newline = partial.indexOf('\n');
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  return { lines, stderr: () => stderr };
}

/**
 * Runs an owner with `args` and kills it with SIGKILL once it has printed `killAfter` lines.
 * @returns the ids it printed (each a resolved enqueue)
 */
async function killAfterLines(args: string[], killAfter: number, trial: number): Promise<string[]> {
  const child = startOwner(args);
  const exited = once(child, 'exit');
  const out = readLines(child, (lines) => {
    if (lines.length === killAfter) child.kill('SIGKILL');
  });
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  expect(signal, `trial ${trial}: child exited with ${String(code)}; stderr: ${out.stderr()}`).toBe(
    'SIGKILL',
  );
  // Give the pipe a moment to deliver what was written before the kill.
  if (child.stdout && !child.stdout.readableEnded) await once(child.stdout, 'end');
  const printed = out.lines.filter((line) => line !== 'done');
  expect(printed.length, `trial ${trial}`).toBeGreaterThanOrEqual(killAfter);
  return printed;
}

describe('kill -9 during a burst of enqueues', () => {
  it(`keeps every resolved enqueue exactly once, in order, over ${KILL_AFTER.length} trials`, async () => {
    let midBurst = 0;
    const delivery: string[] = [];
    for (const [trial, killAfter] of KILL_AFTER.entries()) {
      const dir = join(temp.path, `trial-${trial}`);
      const printed = await killAfterLines(['burst', dir, String(BURST)], killAfter, trial);
      if (printed.length < BURST) midBurst++;

      const store = openStore(dir);
      expect(store.info.recoveredStaleLock, `trial ${trial}`).toBe(true);
      const queue = new CommandQueue(store, { maxPending: 100_000 });
      try {
        const stored = queue.list('crash', undefined, 10_000).map((c) => c.id);
        expect(new Set(stored).size, `trial ${trial}: duplicates`).toBe(stored.length);
        // Everything printed is stored, in issue order; at most one more (committed, killed before printing).
        expect(stored.slice(0, printed.length), `trial ${trial}`).toEqual(printed);
        expect(stored.length - printed.length, `trial ${trial}`).toBeLessThanOrEqual(1);

        // What the Dispatcher would be handed: every stored command, once, in issue order.
        expect(
          queue.list('crash', ['queued'], 10_000).map((c) => c.id),
          `trial ${trial}`,
        ).toEqual(stored);
        if (trial % 5 === 4) {
          // Deliver for real in some trials (an fsync per window and per settle, so not in all of them).
          const delivered: string[] = [];
          for (let batch = queue.sendNext('crash', 8); batch.length > 0; batch = queue.sendNext('crash', 8)) {
            for (const command of batch) {
              delivered.push(command.id);
              queue.settle(command.id, ok);
            }
          }
          expect(delivered, `trial ${trial}`).toEqual(stored);
          delivery.push(dir);
        }
      } finally {
        queue.close();
      }
    }
    // Delivered commands stay delivered after another restart: nothing is handed out again.
    for (const dir of delivery) {
      const reopened = new CommandQueue(openStore(dir));
      expect(reopened.pendingCount('crash')).toBe(0);
      expect(reopened.sendNext('crash', 8)).toEqual([]);
      reopened.close();
    }
    expect(midBurst, 'most kills should land in the middle of the burst').toBeGreaterThanOrEqual(
      KILL_AFTER.length - 2,
    );
  }, 120_000);
});

describe('kill -9 during bursts of concurrent enqueues (group commit)', () => {
  it('keeps every enqueue that had resolved, once, in issue order', async () => {
    for (const [trial, killAfter] of [1, 250, 777, 1500].entries()) {
      const dir = join(temp.path, `groups-${trial}`);
      const printed = await killAfterLines(['groups', dir, String(BURST), '100'], killAfter, trial);

      const queue = new CommandQueue(openStore(dir), { maxPending: 100_000 });
      try {
        const stored = queue.list('crash', undefined, 10_000).map((c) => c.id);
        expect(new Set(stored).size, `trial ${trial}: duplicates`).toBe(stored.length);
        // Every resolved enqueue is stored, in the order they resolved (issue order); rows
        // committed but not yet resolved may be there too.
        const printedSet = new Set(printed);
        expect(
          stored.filter((id) => printedSet.has(id)),
          `trial ${trial}`,
        ).toEqual(printed);
      } finally {
        queue.close();
      }
    }
  }, 120_000);
});

describe('one owner per data directory across processes', () => {
  it('refuses a second owner while the first lives, naming the directory and its pid; recovers once it is killed', async () => {
    const dir = join(temp.path, 'owned');
    const child = startOwner(['hold', dir]);
    const ready = new Promise<void>((resolve) => {
      readLines(child, (lines) => {
        if (lines.includes('ready')) resolve();
      });
    });
    await ready;
    let error: unknown;
    try {
      openStore(dir).close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueueLockedError);
    expect((error as Error).message).toContain(dir);
    expect((error as Error).message).toContain(`pid ${String(child.pid)}`);

    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    const store = openStore(dir);
    expect(store.info.recoveredStaleLock).toBe(true);
    store.close();
  });
});

describe('kill -9 while commands are out with write-behind marks (dedupe servers)', () => {
  it('counts every command the dead process may have sent as sent, and no more than the frontier reserve', async () => {
    const dir = join(temp.path, 'behind');
    const child = startOwner(['sendbehind', dir, '300', '4']);
    await new Promise<void>((resolve) => {
      readLines(child, (lines) => {
        if (lines.includes('sent')) resolve();
      });
    });
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    const queue = new CommandQueue(openStore(dir));
    try {
      const all = queue.list('crash', undefined, 1000);
      expect(all).toHaveLength(300);
      // The four that left had marks only in memory; the recorded frontier reaches 256
      // commands past them. Those 260 count as sent (one attempt, resent with the same id by
      // a dedupe server; never reported as expired or cancelled "before it was sent").
      const possiblySent = all.filter((c) => c.state === 'sending');
      expect(possiblySent.map((c) => c.id)).toEqual(all.slice(0, 260).map((c) => c.id));
      expect(possiblySent.every((c) => c.attempts === 1)).toBe(true);
      expect(all.slice(260).every((c) => c.state === 'queued' && c.attempts === 0)).toBe(true);
      // Recovery for a dedupe server puts them back in order, to be resent with their ids.
      const recovered = queue.recoverAfterRestart('crash', { dedupe: true });
      expect(recovered.map((c) => c.id)).toEqual(all.slice(0, 260).map((c) => c.id));
      expect(queue.list('crash', ['queued'], 3).map((c) => c.id)).toEqual(all.slice(0, 3).map((c) => c.id));
    } finally {
      queue.close();
    }
    // The frontier was cleared with the conversion: a second start changes nothing.
    const again = new CommandQueue(openStore(dir));
    try {
      expect(again.list('crash', ['sending'])).toEqual([]);
    } finally {
      again.close();
    }
  });
});
