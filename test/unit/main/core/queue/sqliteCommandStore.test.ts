import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import sqlite from 'node-sqlite3-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import { QueueLockedError, StoreFailureError } from '../../../../../main/core/queue/queueErrors';
import { DATABASE_FILE } from '../../../../../main/core/queue/sqliteCommandStore';
import { SCHEMA_VERSION } from '../../../../../main/core/queue/schemaMigrations';
import { PAGE_SIZE } from '../../../../../main/core/queue/durabilityPragmas';
import { OWNER_LOCK_FILE } from '../../../../../main/core/queue/ownerLock';
import {
  breakLogSync,
  controlCommand,
  enqueueOn,
  newCommand,
  ok,
  openQueue,
  openStore,
  queuedIds,
  send,
  spawnRequest,
} from './queueTestKit';

let temp: TempDir;
const children: ChildProcess[] = [];

beforeEach(async () => {
  temp = await createTempDir('descartes-store-');
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await temp.remove();
});

/** The pid of a process that has exited (so `kill(pid, 0)` fails with ESRCH). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

async function livePid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

describe('opening', () => {
  it('creates the data directory and the database with WAL, exclusive locking and the current schema', () => {
    const dir = join(temp.path, 'nested', 'data');
    const store = openStore(dir);
    try {
      expect(store.info).toMatchObject({ journalMode: 'wal', recoveredStaleLock: false, migratedFrom: 0 });
      expect(existsSync(join(dir, DATABASE_FILE))).toBe(true);
      expect(readFileSync(join(dir, OWNER_LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(process.pid));
      // The engine's own lock directory exists while we hold the database.
      expect(existsSync(join(dir, `${DATABASE_FILE}.lock`))).toBe(true);
    } finally {
      store.close();
    }
    expect(existsSync(join(dir, OWNER_LOCK_FILE))).toBe(false);
    expect(existsSync(join(dir, `${DATABASE_FILE}.lock`))).toBe(false);
    const again = openStore(dir);
    expect(again.info.migratedFrom).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('persists the settings it verified (read back through a second connection after close)', () => {
    openStore(temp.path).close();
    const db = new sqlite.Database(join(temp.path, DATABASE_FILE));
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      expect(db.get('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' });
      expect(db.get('PRAGMA user_version')).toEqual({ user_version: SCHEMA_VERSION });
      expect(db.get('PRAGMA page_size')).toEqual({ page_size: PAGE_SIZE });
    } finally {
      db.close();
    }
  });

  it('keeps the page size of a database made with another one, and its commands', async () => {
    const made = new sqlite.Database(join(temp.path, DATABASE_FILE));
    made.exec('PRAGMA page_size = 4096');
    made.exec('PRAGMA locking_mode = EXCLUSIVE');
    made.exec('PRAGMA journal_mode = WAL');
    made.exec('CREATE TABLE made_before (x)');
    made.close();
    const queue = openQueue(temp.path);
    const id = (await queue.enqueue('s', controlCommand())).id;
    queue.close();
    const again = openQueue(temp.path);
    expect(again.get(id)?.state).toBe('queued');
    again.close();
    const db = new sqlite.Database(join(temp.path, DATABASE_FILE));
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      expect(db.get('PRAGMA page_size')).toEqual({ page_size: 4096 });
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer schema, and releases its locks', () => {
    openStore(temp.path).close();
    const db = new sqlite.Database(join(temp.path, DATABASE_FILE));
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openStore(temp.path)).toThrow(
      `schema version ${SCHEMA_VERSION + 1}, newer than this build knows`,
    );
    expect(existsSync(join(temp.path, OWNER_LOCK_FILE))).toBe(false);
  });

  it('refuses a second owner in the same process', () => {
    const store = openStore(temp.path);
    try {
      expect(() => openStore(temp.path)).toThrow(/already open in this process/);
    } finally {
      store.close();
    }
  });

  it('refuses a data directory owned by another live process, naming the directory and the pid', async () => {
    const pid = await livePid();
    writeFileSync(join(temp.path, OWNER_LOCK_FILE), `${pid}\n`);
    let error: unknown;
    try {
      openStore(temp.path).close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueueLockedError);
    expect((error as Error).message).toContain(temp.path);
    expect((error as Error).message).toContain(`pid ${pid}`);
    expect(readFileSync(join(temp.path, OWNER_LOCK_FILE), 'utf8')).toBe(`${pid}\n`);
  });

  it('recovers the locks left by a killed owner (dead pid in owner.lock, leftover <db>.lock dir)', async () => {
    const q1 = openQueue(temp.path);
    const a = await q1.enqueue('s1', controlCommand());
    q1.close();
    writeFileSync(join(temp.path, OWNER_LOCK_FILE), `${await deadPid()}\n`);
    mkdirSync(join(temp.path, `${DATABASE_FILE}.lock`));
    const store = openStore(temp.path);
    expect(store.info.recoveredStaleLock).toBe(true);
    const q2 = new CommandQueue(store);
    expect(q2.get(a.id)?.state).toBe('queued');
    q2.close();
  });

  it('treats an unreadable owner.lock as stale', () => {
    writeFileSync(join(temp.path, OWNER_LOCK_FILE), 'garbage');
    const store = openStore(temp.path);
    expect(store.info.recoveredStaleLock).toBe(true);
    store.close();
  });

  it('reports a store failure when the engine cannot open the file', () => {
    mkdirSync(join(temp.path, DATABASE_FILE));
    expect(() => openStore(temp.path)).toThrow(StoreFailureError);
    expect(existsSync(join(temp.path, OWNER_LOCK_FILE))).toBe(false);
  });
});

describe.runIf(process.platform === 'linux')('a failed fsync of the log', () => {
  it('rejects the write that waited for it, names the risk, and refuses every later write', async () => {
    const store = openStore(temp.path);
    const queue = new CommandQueue(store);
    const kept = await queue.enqueue('s1', controlCommand());
    breakLogSync(store, temp.path);
    const lost = controlCommand();
    const failed = await queue.enqueue('s1', lost).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(StoreFailureError);
    expect((failed as Error).message).toMatch(
      new RegExp(
        `could not make command ${lost.request_id} durable \\(.*EINVAL.*\\): it is written but may not survive a crash, and may still take effect after a restart`,
      ),
    );
    // A later fsync could succeed although the kernel dropped pages: nothing may count as durable.
    await expect(queue.enqueue('s1', controlCommand())).rejects.toThrow(
      /an earlier fsync of the command database failed/,
    );
    queue.close();

    // The rejected command did reach the log, so it comes back: what the message warns of.
    const again = openQueue(temp.path);
    try {
      expect(queuedIds(again, 's1')).toEqual([kept.id, lost.request_id]);
    } finally {
      again.close();
    }
  });

  it('makes sync() fail rather than count unsynced writes as durable', () => {
    const store = openStore(temp.path);
    try {
      const command = store.insert(newCommand('s1'));
      store.transaction(
        () => store.update(command.id, { ...command, state: 'sending', attempts: 1 }, command),
        {
          durable: false,
        },
      );
      expect(store.hasUnsyncedWrites).toBe(true);
      const heal = breakLogSync(store, temp.path);
      expect(() => {
        store.sync();
      }).toThrow(/could not make recent writes durable \(.*EINVAL/);
      // Now an fsync would succeed, but the kernel may have dropped the pages it failed to
      // write: the unsynced write must not be called durable.
      heal();
      expect(() => {
        store.sync();
      }).toThrow(/could not make recent writes durable \(.*EINVAL/);
      expect(store.hasUnsyncedWrites).toBe(true);
    } finally {
      store.close();
    }
  });
});

describe('restart', () => {
  it('keeps every command, state, order and the history across close and reopen', async () => {
    const q1 = openQueue(temp.path);
    const spawnReq = spawnRequest('kept');
    const a = await q1.enqueue('s1', spawnReq, { expiresAt: Date.now() + 60_000 });
    const [b, c] = await enqueueOn(q1, 's1', 's2');
    send(q1, a.id);
    q1.settle(a.id, ok);
    q1.cancel(c.id);
    q1.close();

    const q2 = openQueue(temp.path);
    try {
      expect(q2.get(a.id)).toMatchObject({
        state: 'succeeded',
        outcome: ok,
        attempts: 1,
        expiresAt: a.expiresAt,
      });
      expect(q2.get(a.id)?.request).toMatchObject({
        type: 'spawn_request',
        request_id: a.id,
        config: { name: 'kept', environment: { A: '1' } },
      });
      expect(queuedIds(q2, 's1')).toEqual([b.id]);
      expect(q2.history().map((x) => x.id)).toEqual([c.id, a.id]);
      expect(q2.pendingCount('s1')).toBe(1);
    } finally {
      q2.close();
    }
  });

  it('with dedupe: resends unanswered commands with the same request_id, at their original position', async () => {
    const [a, b, c] = await sendThenRestart(3, 2);
    const q2 = openQueue(temp.path);
    try {
      expect(q2.get(a ?? '')?.state).toBe('sending');
      expect(q2.sendNext('s1', 2)).toEqual([]);
      const recovered = q2.recoverAfterRestart('s1', { dedupe: true });
      expect(recovered.map((x) => [x.id, x.state, x.attempts])).toEqual([
        [a, 'queued', 1],
        [b, 'queued', 1],
      ]);
      expect(queuedIds(q2, 's1')).toEqual([a, b, c]);
      expect(send(q2, a ?? '')).toMatchObject({ attempts: 2, request: { request_id: a } });
      expect(q2.recoverAfterRestart('s2', { dedupe: true })).toEqual([]);
    } finally {
      q2.close();
    }
  });

  it('without dedupe: marks unanswered commands outcome-unknown and never resends them', async () => {
    const [a, b] = await sendThenRestart(2, 1);
    const q2 = openQueue(temp.path);
    try {
      const [recovered] = q2.recoverAfterRestart('s1', { dedupe: false });
      expect(recovered).toMatchObject({ id: a, state: 'timed_out', outcome: { kind: 'unknown' } });
      expect(recovered?.outcome?.kind === 'unknown' && recovered.outcome.reason).toMatch(/not resent/);
      expect(queuedIds(q2, 's1')).toEqual([b]);
    } finally {
      q2.close();
    }
    // The recovery itself was durable.
    const q3 = openQueue(temp.path);
    expect(q3.get(a ?? '')?.state).toBe('timed_out');
    q3.close();
  });
});

/**
 * Enqueues `count` commands for s1, hands the first `sent` to the connection, and closes the
 * queue as a console exit would. @returns the ids, in issue order
 */
async function sendThenRestart(count: number, sent: number): Promise<string[]> {
  const q = openQueue(temp.path);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await q.enqueue('s1', controlCommand())).id);
  for (const id of ids.slice(0, sent)) send(q, id);
  q.close();
  return ids;
}

describe('listing by state', () => {
  it('finds one server’s timed-out commands among many others, through the partial index', async () => {
    const q = openQueue(temp.path);
    let timedOut: string[];
    try {
      const [a1, b1, a2] = await enqueueOn(q, 'a', 'b', 'a');
      await enqueueOn(q, 'a', 'b');
      for (const c of [a1, b1, a2]) q.markTimedOut(send(q, c.id).id);
      q.settle(a2.id, ok);
      timedOut = [a1.id];
      expect(q.list('a', ['timed_out']).map((c) => c.id)).toEqual(timedOut);
      expect(q.list(undefined, ['timed_out']).map((c) => c.id)).toEqual([a1.id, b1.id]);
      expect(q.list('a', ['timed_out', 'succeeded']).map((c) => c.id)).toEqual([a1.id, a2.id]);
      // A value that is no state matches nothing, as it did when it was a bound parameter.
      expect(q.list('a', ['nonsense' as 'queued'])).toEqual([]);
      expect(q.list('a', ['nonsense' as 'queued', 'timed_out']).map((c) => c.id)).toEqual(timedOut);
    } finally {
      q.close();
    }
    const db = new sqlite.Database(join(temp.path, DATABASE_FILE));
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      const plan = db.all(
        "EXPLAIN QUERY PLAN SELECT * FROM commands WHERE server_id = ? AND state = 'timed_out' ORDER BY seq LIMIT 10",
        ['a'],
      );
      expect(JSON.stringify(plan)).toContain('INDEX commands_timed_out');
    } finally {
      db.close();
    }
  });
});
