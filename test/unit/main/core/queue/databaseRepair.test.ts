/**
 * A command database that is no usable database is moved aside (with its sidecars), a new one
 * is made from every row that can still be read, and a notice says where the old file went and
 * what was kept. The files are damaged by hand: random bytes, a cut header, a cut file, a
 * damaged table page, a damaged index page.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueuedCommand } from '../../../../../shared/domain/command';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import type { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import { OWNER_LOCK_FILE } from '../../../../../main/core/queue/ownerLock';
import { QueueLockedError, StoreFailureError } from '../../../../../main/core/queue/queueErrors';
import { DATABASE_FILE } from '../../../../../main/core/queue/sqliteCommandStore';
import { SCHEMA_VERSION } from '../../../../../main/core/queue/schemaMigrations';
import { controlCommand, ok, openQueue, queuedIds, send, spawnRequest } from './queueTestKit';
import {
  dbPath,
  filesStartingWith,
  leafPages,
  overwrite,
  sha256,
  withLooseSchema,
  withRawDb,
} from './corruptKit';

let temp: TempDir;
const open: CommandQueue[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  temp = await createTempDir('descartes-repair-');
});
afterEach(async () => {
  for (const q of open.splice(0)) q.close();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await temp.remove();
});

function reopen(): CommandQueue {
  const q = openQueue(temp.path);
  open.push(q);
  return q;
}

/** `count` queued commands for s1 plus two settled ones for s2; closed again. @returns every command, in seq order */
async function seed(count: number): Promise<QueuedCommand[]> {
  const q = openQueue(temp.path, { maxPending: count + 10 });
  for (let i = 0; i < count; i++) await q.enqueue('s1', controlCommand());
  for (const name of ['a', 'b']) {
    const c = await q.enqueue('s2', spawnRequest(name));
    send(q, c.id);
    q.settle(c.id, ok);
  }
  const all = q.list(undefined, undefined, 10_000);
  q.close();
  return all;
}

const asideFiles = (): string[] => filesStartingWith(temp.path, `${DATABASE_FILE}.corrupt-`);

/** What must hold after any repair: one file aside, byte for byte what was there, a notice naming it. */
function expectMovedAside(q: CommandQueue, originalSha: string): string {
  const [aside] = asideFiles();
  expect(aside).toBeDefined();
  const asidePath = join(temp.path, aside ?? '');
  expect(sha256(asidePath)).toBe(originalSha);
  expect(q.repairs.movedAside).toEqual([asidePath]);
  const { notices } = q.health();
  expect(notices).toHaveLength(1);
  expect(notices[0]?.movedTo).toBe(asidePath);
  expect(notices[0]?.message).toContain(`It was moved to ${asidePath}`);
  // No step of the rebuild is left behind.
  expect(filesStartingWith(temp.path, `${DATABASE_FILE}.rebuil`)).toEqual([]);
  return asidePath;
}

/** Every command the repaired queue holds is one of the originals, unchanged. */
function expectSubsetOf(q: CommandQueue, originals: readonly QueuedCommand[]): QueuedCommand[] {
  const byId = new Map(originals.map((c) => [c.id, c]));
  const now = q.list(undefined, undefined, 10_000);
  for (const c of now) expect(c).toEqual(byId.get(c.id));
  return now;
}

describe('a file that is not a SQLite database', () => {
  it('random bytes: moved aside, a new empty queue starts, the notice says where the file went', async () => {
    const garbage = randomBytes(8192);
    writeFileSync(dbPath(temp.path), garbage);
    const q = reopen();
    const aside = expectMovedAside(q, shaOf(garbage));
    expect(q.health().notices[0]?.message).toBe(
      `The command database ${dbPath(temp.path)} could not be used: it does not start with the SQLite header. ` +
        `It was moved to ${aside} and a new, empty queue was started; commands queued before are not in it. ` +
        'The moved file is kept for inspection: delete it once you no longer need it.',
    );
    expect(aside).toMatch(/commands\.sqlite\.corrupt-\d{8}T\d{6}Z$/);
    // The new queue works and survives a restart; the notice stays until dismissed.
    const c = await q.enqueue('s1', controlCommand());
    q.close();
    open.pop();
    const again = reopen();
    expect(again.get(c.id)?.state).toBe('queued');
    expect(again.repairs.movedAside).toEqual([]);
    const notice = again.health().notices[0];
    expect(notice?.movedTo).toBe(aside);
    expect(again.dismissNotice(notice?.id ?? 0)).toBe(true);
    expect(again.dismissNotice(notice?.id ?? 0)).toBe(false);
    expect(again.health().notices).toEqual([]);
  });

  it('a file cut inside its header (50 bytes of a real database)', async () => {
    await seed(3);
    const head = readFileSync(dbPath(temp.path)).subarray(0, 50);
    writeFileSync(dbPath(temp.path), head);
    const q = reopen();
    expectMovedAside(q, shaOf(head));
    expect(q.health().notices[0]?.message).toContain(
      'could not be used: it is 50 bytes long, shorter than a SQLite header (100 bytes).',
    );
    expect(q.list()).toEqual([]);
  });

  it('a file emptied outside the console (0 bytes, no log): moved aside and said, not silently a new queue', async () => {
    await seed(3);
    writeFileSync(dbPath(temp.path), Buffer.alloc(0));
    const q = reopen();
    expectMovedAside(q, shaOf(Buffer.alloc(0)));
    expect(q.health().notices[0]?.message).toContain(
      'could not be used: it is empty (0 bytes): whatever it held was removed outside the console.',
    );
    expect(q.list()).toEqual([]);
  });

  it('moves its -wal, -shm and -journal along, under the names SQLite looks for next to the moved file', () => {
    writeFileSync(dbPath(temp.path), randomBytes(4096));
    const sidecars = { '-wal': randomBytes(5000), '-shm': randomBytes(32768), '-journal': randomBytes(600) };
    for (const [suffix, bytes] of Object.entries(sidecars)) writeFileSync(dbPath(temp.path) + suffix, bytes);
    const q = reopen();
    const [aside] = asideFiles();
    for (const [suffix, bytes] of Object.entries(sidecars)) {
      expect(sha256(join(temp.path, `${aside ?? ''}${suffix}`))).toBe(shaOf(bytes));
    }
    // What sits beside the new database is its own: the old log is not applied to it.
    expect(existsSync(dbPath(temp.path) + '-shm')).toBe(false);
    expect(existsSync(dbPath(temp.path) + '-journal')).toBe(false);
    expect(sha256(dbPath(temp.path) + '-wal')).not.toBe(shaOf(sidecars['-wal']));
    expect(q.list()).toEqual([]);
  });
});

describe('a damaged database (quick_check or the engine reports it)', () => {
  it('a damaged table page: every other command is copied, unchanged; the notice names the stretch lost', async () => {
    const originals = await seed(300);
    const { pageSize, pages } = leafPages(temp.path, 'commands');
    expect(pages.length).toBeGreaterThan(4);
    const victim = pages[Math.floor(pages.length / 2)] ?? 0;
    overwrite(dbPath(temp.path), (victim - 1) * pageSize, Buffer.alloc(16, 0xff));
    const before = sha256(dbPath(temp.path));

    const q = reopen();
    expectMovedAside(q, before);
    const kept = expectSubsetOf(q, originals);
    const lost = originals.filter((c) => !kept.some((k) => k.id === c.id));
    // One leaf's worth (and a little around it at most), in one stretch of seq.
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThan(40);
    const seqs = originals.map((c) => c.seq);
    const lostIdx = lost.map((c) => seqs.indexOf(c.seq));
    expect(lostIdx).toEqual(lostIdx.map((_, i) => (lostIdx[0] ?? 0) + i));
    const message = q.health().notices[0]?.message ?? '';
    // A page whose header is garbage stops quick_check itself: the engine's words are the reason.
    expect(message).toMatch(/is damaged \(SQLite: database disk image is malformed\)\. It was moved to /);
    expect(message).toContain(
      `${kept.length} command(s) were copied into a new database (${kept.length - 2} still to be sent); some rows`,
    );
    expect(message).toMatch(
      /some rows could not be read at all \(between seq \d+ and \d+\): they are only in the moved file/,
    );
    // The copied commands go out in their original order.
    expect(queuedIds(q, 's1')).toEqual(kept.filter((c) => c.serverId === 's1').map((c) => c.id));
  });

  it('a damaged index page: nothing is lost (the table is read without it)', async () => {
    const originals = await seed(300);
    const { pageSize, pages } = leafPages(temp.path, 'sqlite_autoindex_commands_1');
    overwrite(dbPath(temp.path), ((pages[0] ?? 0) - 1) * pageSize, Buffer.alloc(16, 0xff));
    const before = sha256(dbPath(temp.path));
    const q = reopen();
    expectMovedAside(q, before);
    expect(expectSubsetOf(q, originals)).toHaveLength(originals.length);
    expect(q.health().notices[0]?.message).toContain(
      '302 command(s) were copied into a new database (300 still to be sent).',
    );
    // The rebuilt id index works: a used request id is still refused.
    await expect(
      q.enqueue('s1', { ...controlCommand(), request_id: originals[0]?.id ?? '' }),
    ).rejects.toThrow(/already in the queue or its history/);
  });

  it('a file cut short (its header promises more pages): what remains readable is copied', async () => {
    const originals = await seed(300);
    const size = statSync(dbPath(temp.path)).size;
    truncateSync(dbPath(temp.path), Math.floor(size / 2 / 4096) * 4096);
    const cut = sha256(dbPath(temp.path));
    const q = reopen();
    expectMovedAside(q, cut);
    const kept = expectSubsetOf(q, originals);
    expect(kept.length).toBeLessThan(originals.length);
    expect(q.health().notices[0]?.message).toContain(
      `${kept.length} command(s) were copied into a new database`,
    );
  });

  it('a NULL the schema forbids (quick_check finds it): the row goes to the quarantine of the new database', async () => {
    const originals = await seed(5);
    const victim = originals[1]?.id ?? '';
    withLooseSchema(temp.path, true, (db) =>
      db.run('UPDATE commands SET server_id = NULL WHERE id = ?', [victim]),
    );
    const q = reopen();
    expect(asideFiles()).toHaveLength(1);
    const message = q.health().notices[0]?.message ?? '';
    expect(message).toMatch(/is damaged \(quick_check: NULL value in commands\.server_id/);
    expect(message).toContain(
      '6 command(s) were copied into a new database (4 still to be sent); 1 could be found but not read and are in quarantine (never sent)',
    );
    expect(q.health().quarantined).toMatchObject([
      { id: victim, reason: 'server_id: expected text, found null' },
    ]);
    expect(expectSubsetOf(q, originals)).toHaveLength(6);
  });

  it('keeps the quarantine and notices of the damaged file, numbered as they were; new entries come after', async () => {
    const originals = await seed(300);
    withRawDb(temp.path, (db) =>
      db.run("UPDATE commands SET state = 'gone' WHERE id = ?", [originals[0]?.id ?? '']),
    );
    const q1 = openQueue(temp.path);
    const entry = q1.health().quarantined[0];
    q1.close();
    // Damaged since, and never opened in between: found by the salvage itself.
    const late = originals[299]?.id ?? '';
    withRawDb(temp.path, (db) => db.run("UPDATE commands SET state = 'lost' WHERE id = ?", [late]));
    const { pageSize, pages } = leafPages(temp.path, 'commands');
    overwrite(dbPath(temp.path), ((pages[3] ?? 0) - 1) * pageSize, Buffer.alloc(16, 0xff));
    const q = reopen();
    const { quarantined } = q.health();
    expect(quarantined[0]).toEqual(entry);
    expect(quarantined.slice(1).map((e) => [e.id, e.reason])).toEqual([
      [late, 'state: "lost" is not a command state'],
    ]);
    expect(quarantined[1]?.entry).toBeGreaterThan(entry?.entry ?? 0);
    expect(q.health().notices[0]?.message).toContain('1 could be found but not read and are in quarantine');
  });

  it('never touches a database written by a newer build, damaged or not', async () => {
    await seed(300);
    withRawDb(temp.path, (db) => {
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    });
    const { pageSize, pages } = leafPages(temp.path, 'commands');
    overwrite(dbPath(temp.path), ((pages[2] ?? 0) - 1) * pageSize, Buffer.alloc(16, 0xff));
    const before = sha256(dbPath(temp.path));
    expect(() => openQueue(temp.path)).toThrow(StoreFailureError);
    expect(() => openQueue(temp.path)).toThrow(/newer than this build knows/);
    expect(sha256(dbPath(temp.path))).toBe(before);
    expect(asideFiles()).toEqual([]);
  });
});

describe('the owner lock and interrupted repairs', () => {
  it('moves nothing while another live process owns the directory', async () => {
    writeFileSync(dbPath(temp.path), randomBytes(4096));
    const before = sha256(dbPath(temp.path));
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    writeFileSync(join(temp.path, OWNER_LOCK_FILE), `${child.pid ?? 0}\n`);
    expect(() => openQueue(temp.path)).toThrow(QueueLockedError);
    expect(sha256(dbPath(temp.path))).toBe(before);
    expect(asideFiles()).toEqual([]);
  });

  it('removes a rebuild that was still being written, and repairs again', () => {
    writeFileSync(dbPath(temp.path), randomBytes(4096));
    const partial = `${dbPath(temp.path)}.rebuild-20250101T000000Z.partial`;
    writeFileSync(partial, randomBytes(100));
    writeFileSync(`${partial}-journal`, randomBytes(100));
    mkdirSync(`${partial}.lock`);
    const q = reopen();
    expect(asideFiles()).toHaveLength(1);
    expect(filesStartingWith(temp.path, `${DATABASE_FILE}.rebuild`)).toEqual([]);
    expect(q.health().notices).toHaveLength(1);
  });

  it('finishes a rebuild killed after it was complete: before the old file moved, or between it and its log', () => {
    for (const step of ['before the move', 'after the main file moved'] as const) {
      const dir = join(temp.path, step.replaceAll(' ', '-'));
      mkdirSync(dir);
      const garbage = randomBytes(4096);
      const wal = randomBytes(3000);
      writeFileSync(dbPath(dir), garbage);
      // A real repair, then its last steps undone: the state a kill at that point leaves.
      openQueue(dir).close();
      const [aside] = filesStartingWith(dir, `${DATABASE_FILE}.corrupt-`);
      const stamp = (aside ?? '').slice(`${DATABASE_FILE}.corrupt-`.length);
      renameSync(dbPath(dir), `${dbPath(dir)}.rebuilt-${stamp}`);
      if (step === 'before the move') renameSync(join(dir, aside ?? ''), dbPath(dir));
      writeFileSync(`${dbPath(dir)}-wal`, wal);

      const q = openQueue(dir);
      try {
        expect(q.repairs.movedAside).toEqual([join(dir, aside ?? '')]);
        expect(sha256(join(dir, aside ?? ''))).toBe(shaOf(garbage));
        expect(sha256(join(dir, `${aside ?? ''}-wal`))).toBe(shaOf(wal));
        expect(filesStartingWith(dir, `${DATABASE_FILE}.rebuilt`)).toEqual([]);
        expect(q.health().notices.map((n) => n.movedTo)).toEqual([join(dir, aside ?? '')]);
      } finally {
        q.close();
      }
    }
  });
});

function shaOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
