import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandResponse, ReplyMessage } from '../../../shared/protocol';
import { decodeMessage, encodeMessage } from '../../../shared/protocol';
import { DedupeJournal, JOURNAL_FILE, LOCK_FILE, StateDirError } from '../../../server/dedupeJournal';
import { createTempDir } from '../../helpers/tempDir';
import type { TempDir } from '../../helpers/tempDir';

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
  let dir: TempDir;
  const open: DedupeJournal[] = [];
  beforeEach(async () => {
    dir = await createTempDir('descartes-journal-');
  });
  afterEach(async () => {
    for (const j of open.splice(0)) j.close();
    await dir.remove();
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
    expect(readFileSync(join(dir.path, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
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
    expect(lines).toHaveLength(4);
  });
});
