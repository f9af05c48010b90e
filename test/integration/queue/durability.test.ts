/**
 * Which writes reach the disk, checked under strace (docs/ARCHITECTURE.md §3.6): a durable write
 * returns only after an fsync of the log; a `durable: false` write does not wait for one but is
 * synced within `syncLagMs`; a write-behind sending mark is not written at all until it must be.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir } from '../../helpers/tempDir';
import type { TempDir } from '../../helpers/tempDir';

const FIXTURE = fileURLToPath(new URL('./fixtures/durabilityPhases.ts', import.meta.url));

interface Phase {
  /** fsync/fdatasync calls on the command database's files. */
  syncs: number;
  /** Writes into the log (the -wal file). */
  logWrites: number;
  /** Whether an fsync of the log came after the phase's last write into it. */
  logSyncedLast: boolean;
}

let temp: TempDir;
let phases: Map<string, Phase>;
let stdout: string;

beforeAll(async () => {
  temp = await createTempDir('descartes-durability-');
  const found = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (found.error !== undefined) {
    throw new Error('strace is needed for this test (Debian: apt-get install strace); .ci/run installs it');
  }
  const trace = join(temp.path, 'trace.txt');
  stdout = execFileSync(
    'strace',
    [
      '-f',
      '-y',
      '-qq',
      '-e',
      'trace=fsync,fdatasync,write,pwrite64',
      '-o',
      trace,
      process.execPath,
      '--import',
      'tsx',
      FIXTURE,
      join(temp.path, 'queue'),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  phases = cut(readFileSync(trace, 'utf8'));
}, 90_000);

afterAll(async () => {
  await temp.remove();
});

/**
 * Splits the trace at the fixture's `@@phase` markers and counts what touched the database.
 * With `-f`, a call that another thread interrupts is printed in two lines (`fdatasync(5</…-wal>
 * <unfinished ...>`, later `<... fdatasync resumed>) = 0`, each after its thread id): a busy
 * machine makes that likely, so a log sync counts when its result line comes, whichever form.
 */
function cut(trace: string): Map<string, Phase> {
  const out = new Map<string, Phase>();
  let current: Phase | null = null;
  /** Threads inside an unfinished sync of the log, by thread id. */
  const syncingLog = new Set<string>();
  for (const line of trace.split('\n')) {
    const marker = /write\(1<[^>]*>, "@@phase ([a-z-]+)\\n"/.exec(line);
    if (marker?.[1] !== undefined) {
      current = { syncs: 0, logWrites: 0, logSyncedLast: false };
      out.set(marker[1], current);
      continue;
    }
    const thread = /^(\d+)\s/.exec(line)?.[1] ?? '';
    if (/<\.\.\. (fsync|fdatasync) resumed>/.test(line)) {
      if (syncingLog.delete(thread) && current !== null && / = 0$/.test(line)) current.logSyncedLast = true;
      continue;
    }
    if (current === null || !line.includes('commands.sqlite')) continue;
    if (/\b(fsync|fdatasync)\(/.test(line)) {
      current.syncs++;
      if (!line.includes('commands.sqlite-wal>')) continue;
      if (line.includes('<unfinished ...>')) syncingLog.add(thread);
      else if (/ = 0$/.test(line)) current.logSyncedLast = true;
    } else if (/\bp?write(64)?\(\d+<[^>]*commands\.sqlite-wal>/.test(line)) {
      current.logWrites++;
      current.logSyncedLast = false;
    }
  }
  return out;
}

function phase(name: string): Phase {
  const p = phases.get(name);
  if (p === undefined) throw new Error(`phase ${name} missing from the trace`);
  return p;
}

describe.runIf(process.platform === 'linux')('what reaches the disk, under strace', () => {
  it('a durable enqueue, mark or settle returns after an fsync of the log', () => {
    for (const name of ['enqueue', 'send-durable', 'settle-durable']) {
      expect(phase(name).logWrites, name).toBeGreaterThan(0);
      expect(phase(name).logSyncedLast, name).toBe(true);
      // One: ours. synchronous=FULL would add SQLite's own (and pad the log to a sector).
      expect(phase(name).syncs, name).toBe(1);
    }
  });

  it('a durable: false mark or settle is written without waiting for the disk', () => {
    for (const name of ['send-not-durable', 'settle-not-durable']) {
      expect(phase(name).logWrites, name).toBeGreaterThan(0);
      expect(phase(name).syncs, name).toBe(0);
    }
  });

  it('the queue syncs durable: false writes by itself within syncLagMs', () => {
    expect(phase('background-sync').syncs).toBeGreaterThan(0);
  });

  it('a write-behind mark is not written until a settle, a read or close needs it', () => {
    // The first such send records the send frontier durably; sends it covers write nothing.
    expect(phase('send-write-behind').logSyncedLast).toBe(true);
    expect(phase('send-covered')).toEqual({ syncs: 0, logWrites: 0, logSyncedLast: false });
    // The step writes the two settles (a settle writes the whole row, so their held marks are
    // dropped), without an fsync.
    expect(phase('settle-write-behind').logWrites).toBeGreaterThan(0);
    expect(phase('settle-write-behind').syncs).toBe(0);
    // list() writes the two marks still held first, so it reports them as sending.
    expect(phase('list').logWrites).toBeGreaterThan(0);
    expect(phase('list').syncs).toBe(0);
    expect(stdout).toContain('@@listed 2');
    expect(phase('close').syncs).toBeGreaterThan(0);
  });
});
