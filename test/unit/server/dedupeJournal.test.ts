import {
  existsSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  appendFileSync,
  mkdirSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandResponse, ReplyMessage } from '../../../shared/protocol';
import { decodeMessage, encodeMessage } from '../../../shared/protocol';
import { DedupeJournal, JOURNAL_FILE, LOCK_FILE, StateDirError } from '../../../server/dedupeJournal';
import { useTempDir } from '../../helpers/useTempDir';

const codec = { encode: (r: ReplyMessage) => encodeMessage(r), decode: decodeMessage };
const reply = (id: string): CommandResponse => ({
  type: 'command_response',
  request_id: id,
  agent_id: '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b',
  success: true,
  status: 'running',
  data: { pause_mode: 'forced' },
  error: null,
});

describe('DedupeJournal', () => {
  const dir = useTempDir('descartes-journal-');
  const open: DedupeJournal[] = [];
  afterEach(() => {
    for (const j of open.splice(0)) j.close();
  });
  const openJournal = (options = {}) => {
    const j = DedupeJournal.open(dir.path, { codec, ...options });
    open.push(j);
    return j;
  };

  it('brings back replies and begun-but-unanswered requests after a restart', () => {
    const first = openJournal();
    first.begin('r1', 'control_command');
    first.reply('r1', reply('r1'));
    first.begin('r2', 'spawn_request'); // the server "dies" here
    first.close();
    const second = openJournal();
    expect(second.entries().map((e) => ({ id: e.requestId, type: e.type, reply: e.reply }))).toEqual([
      { id: 'r1', type: 'control_command', reply: reply('r1') },
      { id: 'r2', type: 'spawn_request', reply: null },
    ]);
  });

  it('ignores a torn last line left by a crash mid-append', () => {
    const first = openJournal();
    first.begin('r1', 'control_command');
    first.close();
    appendFileSync(join(dir.path, JOURNAL_FILE), '{"k":"r","id":"r1","rep');
    expect(openJournal().entries()).toHaveLength(1);
  });

  it('refuses a state dir locked by a live server and takes over a stale lock', () => {
    openJournal();
    expect(() => DedupeJournal.open(dir.path, { codec })).toThrow(StateDirError);
    expect(() => DedupeJournal.open(dir.path, { codec })).toThrow(/is in use by another server \(pid \d+/);
    for (const j of open.splice(0)) j.close();
    expect(existsSync(join(dir.path, LOCK_FILE))).toBe(false);
    // A lock left by a dead process (pid that cannot exist) is stale.
    writeFileSync(join(dir.path, LOCK_FILE), '2147483646\n');
    const j = openJournal();
    expect(readFileSync(join(dir.path, LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(process.pid));
    j.close();
  });

  it('compacts to the entries the reply cache would keep', () => {
    let now = 0;
    const j = openJournal({ ttlMs: 1000, minEntries: 2, compactAfter: 1_000_000, now: () => now });
    for (let i = 0; i < 5; i++) {
      j.begin(`r${i}`, 'control_command');
      j.reply(`r${i}`, reply(`r${i}`));
    }
    j.close();
    now = 10_000;
    const reopened = openJournal({ ttlMs: 1000, minEntries: 2, now: () => now });
    expect(reopened.entries().map((e) => e.requestId)).toEqual(['r3', 'r4']);
    const lines = readFileSync(join(dir.path, JOURNAL_FILE), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5); // the epoch, then a begin and a reply for each entry kept
  });

  describe('dedupe epoch', () => {
    const path = () => join(dir.path, JOURNAL_FILE);

    it('keeps its epoch across restarts while the journal is whole', () => {
      const first = openJournal();
      expect(first.epoch).toMatch(/^[0-9a-f]{16}$/);
      expect(first.epochChange).toMatch(/no journal was found/);
      first.begin('r1', 'control_command');
      first.reply('r1', reply('r1'));
      const epoch = first.epoch;
      first.close();
      appendFileSync(path(), '{"k":"b","id":"torn'); // a crash mid-append loses nothing that ran
      const second = openJournal();
      expect(second.epoch).toBe(epoch);
      expect(second.epochChange).toBeNull();
    });

    it('begins a new epoch when the journal is gone, damaged before its end, or from an older server', () => {
      const first = openJournal();
      first.begin('r1', 'control_command');
      const epoch = first.epoch;
      first.close();

      writeFileSync(
        path(),
        `{"k":"b","id":"r1","t":"control_command","at":1}\nGARBAGE\n{"k":"b","id":"r2","t":"control_command","at":2}\n`,
      );
      const damaged = openJournal();
      expect(damaged.epoch).not.toBe(epoch);
      expect(damaged.epochChange).toMatch(/damaged/);
      const second = damaged.epoch;
      damaged.close();

      writeFileSync(path(), `{"k":"b","id":"r1","t":"control_command","at":1}\n`);
      const older = openJournal();
      expect(older.epoch).not.toBe(second);
      expect(older.epochChange).toMatch(/no dedupe epoch/);
      const third = older.epoch;
      older.close();

      unlinkSync(path());
      const gone = openJournal();
      expect(gone.epoch).not.toBe(third);
      expect(gone.entries()).toEqual([]);
    });

    it('moves an unreadable journal aside and starts a new epoch instead of refusing to start', () => {
      mkdirSync(path()); // reading a directory fails with EISDIR: unreadable, not missing
      const j = openJournal({ now: () => Date.UTC(2026, 11, 5, 10, 0, 0) });
      expect(j.epochChange).toMatch(
        /could not be read \(EISDIR\); it was moved to .*unreadable-2026-12-05T10-00-00-000Z/,
      );
      expect(readdirSync(dir.path)).toEqual(
        expect.arrayContaining([JOURNAL_FILE, `${JOURNAL_FILE}.unreadable-2026-12-05T10-00-00-000Z`]),
      );
    });

    it('begins a new epoch, durably, when the cap drops a reply still inside its retention time', () => {
      const now = 1_000;
      const j = openJournal({ ttlMs: 60_000, minEntries: 2, maxEntries: 3, now: () => now });
      const epoch = j.epoch;
      for (let i = 0; i < 3; i++) j.begin(`r${i}`, 'control_command');
      expect(j.epoch).toBe(epoch);
      j.begin('r3', 'control_command'); // the 4th young entry: r0 is forced out
      expect(j.epoch).not.toBe(epoch);
      expect(j.epochChange).toMatch(/1 replies younger than the retention time were dropped/);
      const bumped = j.epoch;
      j.close();
      expect(openJournal({ ttlMs: 60_000, minEntries: 2, maxEntries: 3, now: () => now }).epoch).toBe(bumped);
    });
  });
});
