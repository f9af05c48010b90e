/**
 * One unreadable row must not stop the queue: it is moved to the quarantine with the reason
 * (kept as found, never sent), and everything else works. Rows are damaged by hand through SQL
 * on the real database file, with the store closed.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../../../shared/protocol';
import type { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import { QuarantineEntryNotFoundError } from '../../../../../main/core/queue/queueErrors';
import { controlCommand, ok, openQueue, queuedIds, send, spawnRequest, useQueueDir } from './queueTestKit';
import { dbPath, filesStartingWith, withLooseSchema, withRawDb } from './corruptKit';
import { DATABASE_FILE } from '../../../../../main/core/queue/sqliteCommandStore';

const reopen = useQueueDir('descartes-quarantine-');

/** Three queued commands for s1 and one settled one; the queue is closed again. */
async function seed(): Promise<{ ids: string[]; settled: string }> {
  const q = openQueue(reopen.dir());
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await q.enqueue('s1', controlCommand())).id);
  const settled = await settleOne(q, 'done');
  q.close();
  return { ids, settled };
}

/** Settles one more command (for s2, spawning `name`) in a queue opened on the same directory. */
async function settleAnother(name: string): Promise<string> {
  const q = openQueue(reopen.dir());
  try {
    return await settleOne(q, name);
  } finally {
    q.close();
  }
}

async function settleOne(q: CommandQueue, name: string): Promise<string> {
  const command = await q.enqueue('s2', spawnRequest(name));
  send(q, command.id);
  q.settle(command.id, ok);
  return command.id;
}

describe('a row that cannot be read', () => {
  it('garbage request bytes: the queue opens, the row is quarantined with the reason and raw bytes, the rest is sent in order', async () => {
    const { ids } = await seed();
    const garbage = Uint8Array.from([0xc1, 0xff, 0x00, 0x13, 0x37]);
    withRawDb(reopen.dir(), (db) =>
      db.run('UPDATE commands SET request = ? WHERE id = ?', [garbage, ids[1] ?? '']),
    );

    const q = reopen();
    expect(queuedIds(q, 's1')).toEqual([ids[0], ids[2]]);
    expect(q.get(ids[1] ?? '')).toBeNull();
    const { quarantined, notices } = q.health();
    expect(notices).toEqual([]);
    expect(quarantined).toHaveLength(1);
    const entry = quarantined[0];
    expect(entry).toMatchObject({ id: ids[1], serverId: 's1', state: 'queued', attempts: 0 });
    expect(entry?.reason).toMatch(/^request: its bytes do not decode to a request \(/);
    expect(entry?.raw.request).toEqual({ bytes: 5, hexPrefix: 'c1ff001337' });
    expect(q.repairs.quarantinedEntries).toEqual([entry?.entry]);
  });

  it.each([
    ['an unknown state', "state = 'sendin'", 'state: "sendin" is not a command state'],
    ['an unknown kind', "kind = 'reboot_request'", 'kind: "reboot_request" is not a request type'],
    [
      'text where a number belongs',
      "created_at = 'yesterday'",
      'created_at: expected a whole number, found text',
    ],
    [
      'a number beyond 2^53',
      'attempts = 9007199254740993',
      'attempts: 9007199254740993 is beyond the whole numbers',
    ],
    ['a negative attempt count', 'attempts = -1', 'attempts: -1 is below 0'],
    ['an outcome that is not JSON', "outcome = '{kind: reply'", 'outcome: not valid JSON'],
    [
      'an outcome of no known kind',
      `outcome = '{"kind":"exploded"}'`,
      'outcome: no known outcome kind ("exploded")',
    ],
    ['a request stored as text', "request = 'not bytes'", 'request: expected bytes, found text'],
  ])('%s: quarantined at open, with the reason', async (_what, set, reason) => {
    const { ids } = await seed();
    withRawDb(reopen.dir(), (db) => db.run(`UPDATE commands SET ${set} WHERE id = ?`, [ids[0] ?? '']));
    const q = reopen();
    const quarantined = q.health().quarantined;
    expect(quarantined.map((e) => e.id)).toEqual([ids[0]]);
    expect(quarantined[0]?.reason).toContain(reason);
    expect(queuedIds(q, 's1')).toEqual([ids[1], ids[2]]);
  });

  it('NULL in a required column (a schema without NOT NULL): quarantined, the file is not moved', async () => {
    const { ids } = await seed();
    withLooseSchema(reopen.dir(), false, (db) =>
      db.run('UPDATE commands SET server_id = NULL, summary = NULL WHERE id = ?', [ids[2] ?? '']),
    );
    const q = reopen();
    expect(q.health().quarantined).toMatchObject([
      { id: ids[2], serverId: null, reason: 'server_id: expected text, found null' },
    ]);
    expect(q.repairs.movedAside).toEqual([]);
    expect(queuedIds(q, 's1')).toEqual([ids[0], ids[1]]);
  });

  it('a request whose request_id is not the row id is quarantined when read', async () => {
    const { ids } = await seed();
    const other = controlCommand();
    withRawDb(reopen.dir(), (db) =>
      db.run('UPDATE commands SET request = ? WHERE id = ?', [encodeMessage(other), ids[0] ?? '']),
    );
    const q = reopen();
    expect(q.health().quarantined[0]?.reason).toBe(
      `request: its request_id ${other.request_id} is not the row's id ${ids[0]}`,
    );
    expect(q.pendingCount('s1')).toBe(2);
  });

  it('a settled command with unreadable request bytes leaves the history when first read, and the rest of the history reads', async () => {
    const { settled } = await seed();
    const second = await settleAnother('second');
    withRawDb(reopen.dir(), (db) => db.run("UPDATE commands SET request = x'00' WHERE id = ?", [settled]));

    const q = reopen();
    // The cheap check at open leaves request bytes alone: the row is found when the history is read.
    expect(q.health().quarantined).toEqual([]);
    expect(q.history().map((c) => c.id)).toEqual([second]);
    expect(q.health().quarantined.map((e) => [e.id, e.state])).toEqual([[settled, 'succeeded']]);
    expect(q.history().map((c) => c.id)).toEqual([second]);
  });

  it.each([
    ['is not JSON', `'{"kind": "reply", "success": tru'`, 'outcome: not valid JSON'],
    [
      'lacks the fields of its kind',
      `'{"kind": "reply", "success": "yes"}'`,
      'outcome: a reply outcome without the fields it needs',
    ],
  ])(
    'a settled command whose outcome %s is quarantined when read, like any unreadable row',
    async (_what, outcome, reason) => {
      const { settled } = await seed();
      const second = await settleAnother('second');
      withRawDb(reopen.dir(), (db) =>
        db.run(`UPDATE commands SET outcome = ${outcome} WHERE id = ?`, [settled]),
      );

      const q = reopen();
      expect(q.get(settled)).toBeNull();
      expect(q.history().map((c) => c.id)).toEqual([second]);
      expect(q.health().quarantined.map((e) => [e.id, e.state, e.reason])).toEqual([
        [settled, 'succeeded', reason],
      ]);
    },
  );

  it('at open, checks pending rows in full and every row for a state; a settled row breaking another rule goes when read', async () => {
    const { settled } = await seed();
    const other = await settleAnother('other');
    withRawDb(reopen.dir(), (db) => {
      db.run("UPDATE commands SET created_at = 'monday' WHERE id = ?", [settled]);
      // No known state (the column's text affinity keeps it as "7"): no list would ever show
      // it, so the open must find it.
      db.run('UPDATE commands SET state = 7 WHERE id = ?', [other]);
    });
    const q = reopen();
    expect(q.health().quarantined.map((e) => [e.id, e.reason])).toEqual([
      [other, 'state: "7" is not a command state'],
    ]);
    expect(q.history()).toEqual([]);
    expect(q.health().quarantined.map((e) => [e.id, e.reason])).toEqual([
      [other, 'state: "7" is not a command state'],
      [settled, 'created_at: expected a whole number, found text'],
    ]);
  });

  it('keeps quarantined rows across restarts and never sends them; discard removes one for good, by entry or by request id', async () => {
    const { ids } = await seed();
    withRawDb(reopen.dir(), (db) =>
      db.run("UPDATE commands SET state = 'lost' WHERE id IN (?, ?)", [ids[0] ?? '', ids[1] ?? '']),
    );
    const q1 = openQueue(reopen.dir());
    const [first, second] = q1.health().quarantined;
    q1.close();

    const q = reopen();
    expect(q.health().quarantined.map((e) => e.entry)).toEqual([first?.entry, second?.entry]);
    expect(queuedIds(q, 's1')).toEqual([ids[2]]);
    expect(q.discardQuarantined(first?.entry ?? 0).id).toBe(ids[0]);
    expect(q.discardQuarantined(ids[1] ?? '').entry).toBe(second?.entry);
    expect(() => q.discardQuarantined(first?.entry ?? 0)).toThrow(QuarantineEntryNotFoundError);
    expect(() => q.discardQuarantined(first?.entry ?? 0)).toThrow(/No quarantined command with entry number/);
    q.close();
    expect(reopen().health().quarantined).toEqual([]);
    // Row repairs never move the database file.
    expect(filesStartingWith(reopen.dir(), `${DATABASE_FILE}.corrupt`)).toEqual([]);
    expect(existsSync(dbPath(reopen.dir()))).toBe(true);
  });

  it('a send frontier whose seq cannot be read counts every queued command of its server as possibly sent', async () => {
    const { ids } = await seed();
    withLooseSchema(reopen.dir(), false, (db) => {
      db.exec('CREATE TABLE IF NOT EXISTS send_frontier (server_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)');
      db.run("INSERT INTO send_frontier (server_id, seq) VALUES ('s1', 'garbled')");
    });
    const q = reopen();
    // Possibly sent: resent with the same request_id (dedupe) or outcome unknown, never as new.
    expect(q.list('s1', ['sending']).map((c) => c.id)).toEqual(ids);
  });
});
