/**
 * kill -9 of a process in the middle of rebuilding a damaged command database, at several
 * points, then a restart: the repair is finished or redone, never half applied. Every command
 * that could be read is in the queue, the damaged file is kept aside byte for byte (once),
 * the notice is there, and no step of the rebuild is left behind.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir } from '../../helpers/tempDir';
import type { TempDir } from '../../helpers/tempDir';
import { DATABASE_FILE } from '../../../main/core/queue/sqliteCommandStore';
import { controlCommand, newCommand, openQueue, openStore } from '../../unit/main/core/queue/queueTestKit';
import {
  dbPath,
  filesStartingWith,
  leafPages,
  overwrite,
  sha256,
} from '../../unit/main/core/queue/corruptKit';

const FIXTURE = fileURLToPath(new URL('./fixtures/queueOwner.ts', import.meta.url));
/** Enough commands that the rebuild takes long enough to be caught in the middle. */
const COMMANDS = 20_000;

let temp: TempDir;
let template: string;
let templateSha: string;
let ids: string[];
const children: ChildProcess[] = [];

beforeAll(async () => {
  temp = await createTempDir('descartes-repair-crash-');
  // One damaged database, copied into every trial: a damaged index, so every row is readable
  // and the rebuild copies all of them.
  const dir = join(temp.path, 'template');
  const store = openStore(dir);
  store.transaction(() => {
    for (let i = 0; i < COMMANDS; i++) {
      store.insert(newCommand('crash'));
    }
  });
  store.close();
  const q = openQueue(dir, { maxPending: COMMANDS });
  ids = q.list('crash', undefined, 3).map((c) => c.id);
  q.close();
  const { pageSize, pages } = leafPages(dir, 'sqlite_autoindex_commands_1');
  overwrite(dbPath(dir), ((pages[1] ?? 0) - 1) * pageSize, Buffer.alloc(16, 0xff));
  template = dbPath(dir);
  templateSha = sha256(template);
}, 120_000);

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await temp.remove();
});

/** Waits until `predicate` holds, checking as often as the event loop allows. */
async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

/** Kill points: when the partial rebuild appears (+ a delay), or when the complete one does. */
const KILLS = [
  { at: 'partial', delayMs: 0 },
  { at: 'partial', delayMs: 40 },
  { at: 'partial', delayMs: 150 },
  { at: 'rebuilt', delayMs: 0 },
] as const;

describe('kill -9 while a damaged database is rebuilt', () => {
  it(`finishes or redoes the repair, over ${KILLS.length} kill points`, async () => {
    const seen: string[] = [];
    for (const [trial, kill] of KILLS.entries()) {
      const dir = join(temp.path, `trial-${trial}`);
      mkdirSync(dir);
      copyFileSync(template, dbPath(dir));
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'hold', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const exited = once(child, 'exit');
      const marker = kill.at === 'partial' ? '.rebuild-' : '.rebuilt-';
      const caught = await until(
        () => readdirSync(dir).some((f) => f.startsWith(`${DATABASE_FILE}${marker}`)),
        60_000,
      );
      if (kill.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, kill.delayMs));
      child.kill('SIGKILL');
      await exited;
      // What the kill left, for the record (the step it interrupted).
      seen.push(`${kill.at}+${kill.delayMs}ms: ${caught ? readdirSync(dir).sort().join(' ') : 'not caught'}`);

      const q = openQueue(dir, { maxPending: COMMANDS });
      try {
        const asides = filesStartingWith(dir, `${DATABASE_FILE}.corrupt-`);
        expect(asides, seen.join('\n')).toHaveLength(1);
        const aside = join(dir, asides[0] ?? '');
        expect(sha256(aside)).toBe(templateSha);
        expect(q.pendingCount('crash')).toBe(COMMANDS);
        expect(q.list('crash', ['queued'], 3).map((c) => c.id)).toEqual(ids);
        expect(q.health().notices.map((n) => n.movedTo)).toEqual([aside]);
        expect(
          readdirSync(dir).filter((f) => f.includes('.rebuild-') || f.includes('.rebuilt-')),
          seen.join('\n'),
        ).toEqual([]);
        expect(existsSync(dbPath(dir))).toBe(true);
      } finally {
        q.close();
      }
    }
    // At least the first kill point must have landed inside the rebuild, or the test proves little.
    expect(seen[0], seen.join('\n')).not.toMatch(/not caught/);
  }, 300_000);

  it('reads through the log of a process killed with commits still in it, and moves the log along', async () => {
    const dir = join(temp.path, 'with-log');
    // Older commands, checkpointed into the main file at close.
    const q1 = openQueue(dir, { maxPending: 1000 });
    const early: string[] = [];
    for (let i = 0; i < 200; i++) early.push((await q1.enqueue('crash', controlCommand())).id);
    q1.close();
    // Read now: a connection opened later would play the log into the file.
    const { pageSize, pages } = leafPages(dir, 'commands');
    // Newer ones that only reach the log: the owner is killed before any checkpoint.
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'burst', dir, '50'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    expect(await until(() => out.includes('done\n'), 60_000)).toBe(true);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    const late = out.split('\n').filter((line) => /^[0-9a-f-]{36}$/.test(line));
    expect(late).toHaveLength(50);
    const walSha = sha256(`${dbPath(dir)}-wal`);
    // Damage an early leaf of the main file, one the appends in the log did not touch.
    overwrite(dbPath(dir), ((pages[1] ?? 0) - 1) * pageSize, Buffer.alloc(16, 0xff));
    const mainSha = sha256(dbPath(dir));

    const q = openQueue(dir, { maxPending: 1000 });
    try {
      const [aside] = filesStartingWith(dir, `${DATABASE_FILE}.corrupt-`);
      expect(sha256(join(dir, aside ?? ''))).toBe(mainSha);
      expect(sha256(join(dir, `${aside ?? ''}-wal`))).toBe(walSha);
      const kept = new Set(q.list('crash', undefined, 1000).map((c) => c.id));
      // Everything only the log held is back; of the main file, all but the damaged page.
      expect(late.every((id) => kept.has(id))).toBe(true);
      const lostEarly = early.filter((id) => !kept.has(id));
      expect(lostEarly.length).toBeGreaterThan(0);
      expect(lostEarly.length).toBeLessThan(40);
    } finally {
      q.close();
    }
  }, 120_000);
});
