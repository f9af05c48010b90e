import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentDetails } from '../../../shared/domain/agentDetails';
import type { AgentStatus } from '../../../shared/protocol';
import type { AgentJournal, AgentProcess } from '../../../server/agentProcess';
import { AgentRecords, AGENTS_DIR, ASIDE_DIR } from '../../../server/agentRecords';
import { DEFAULT_LINE_STORE_LIMITS } from '../../../server/config';
import { LineStore } from '../../../server/lineStore';
import { runningDetails } from '../../helpers/agentDetails';
import { useTempDir } from '../../helpers/useTempDir';

const dir = useTempDir('records-');
const MiB = 1024 * 1024;

/** What `AgentJournal.facts` reads of an agent: its details and status. */
function facts(id: string, status: AgentStatus, over: Partial<AgentDetails> = {}): AgentProcess {
  const details = runningDetails(id, 1_000, over);
  return { details: () => details, info: () => ({ status }) } as unknown as AgentProcess;
}

function open(outputBytes = 256 * MiB): { records: AgentRecords; logs: string[] } {
  const logs: string[] = [];
  const records = AgentRecords.open(dir.path, { outputBytes, log: (l) => logs.push(l) });
  return { records, logs };
}

function newAgent(records: AgentRecords, name = 'a'): { id: string; journal: AgentJournal } {
  const id = randomUUID();
  const journal = records.create({ id, name, backend: 'shell', task: `task ${name}` });
  if (journal === null) throw new Error('no journal');
  return { id, journal };
}

function write(journal: AgentJournal, tag: 0 | 1, text: string): void {
  const bytes = Buffer.from(text);
  journal.line(tag, bytes, 0, bytes.length);
}

function replay(records: AgentRecords, index: number): LineStore {
  const old = records.restored[index];
  if (!old) throw new Error(`no restored agent ${index}`);
  const store = new LineStore(DEFAULT_LINE_STORE_LIMITS);
  store.skipDropped(old.record.dropped_stdout, old.record.dropped_stderr);
  old.readInto(store);
  return store;
}

describe('AgentRecords: agents and their output in the state dir', () => {
  it('reads back ended agents in spawn order with both streams in arrival order', () => {
    const first = open();
    const a = newAgent(first.records, 'first');
    const b = newAgent(first.records, 'second');
    a.journal.facts(facts(a.id, 'running'));
    b.journal.facts(facts(b.id, 'running'));
    write(a.journal, 0, 'out 1');
    write(a.journal, 1, 'err 1');
    write(a.journal, 0, 'out 2 ✓');
    a.journal.facts(facts(a.id, 'completed', { endedAtMs: 2_000, exitCode: 0, endReason: 'completed' }));
    b.journal.facts(
      facts(b.id, 'terminated', { endedAtMs: 3_000, signal: 'SIGKILL', endReason: 'operator' }),
    );
    first.records.close();

    const second = open();
    expect(second.logs).toEqual([]);
    expect(second.records.restored.map((r) => [r.record.name, r.facts.status, r.facts.endReason])).toEqual([
      ['first', 'completed', 'completed'],
      ['second', 'terminated', 'operator'],
    ]);
    expect(second.records.restored[1]?.facts).toMatchObject({
      signal: 'SIGKILL',
      endedAtMs: 3_000,
      pid: 4321,
    });
    const store = replay(second.records, 0);
    expect(store.read('both', 0, 10).lines).toEqual(['out 1', 'err 1', 'out 2 ✓']);
    expect(store.read('stderr', 0, 10).lines).toEqual(['err 1']);
  });

  it('lists an agent that was running when the server died as failed/lost and ignores a torn last line', () => {
    const first = open();
    const a = newAgent(first.records);
    a.journal.facts(facts(a.id, 'running'));
    write(a.journal, 0, 'before the crash');
    // The server dies here: no close(). What the timer had not written yet is lost; simulate
    // the write that made it, plus a torn last record.
    first.records.close();
    const agentDir = join(dir.path, AGENTS_DIR, a.id);
    const out = readdirSync(agentDir).find((f) => f.startsWith('out-')) ?? '';
    appendFileSync(join(agentDir, out), 'ohalf a li');

    const second = open();
    expect(second.logs).toEqual([]);
    expect(second.records.restored[0]?.facts).toMatchObject({
      status: 'failed',
      endReason: 'lost',
      exitCode: null,
    });
    expect(replay(second.records, 0).read('both', 0, 10).lines).toEqual(['before the crash']);
    // The record now says lost, so a second restart says so too.
    const record = JSON.parse(readFileSync(join(agentDir, 'record.json'), 'utf8')) as { end_reason: string };
    expect(record.end_reason).toBe('lost');
  });

  it('moves an unreadable record aside with a log line and still lists the other agents', () => {
    const first = open();
    const good = newAgent(first.records, 'good');
    const bad = newAgent(first.records, 'bad');
    good.journal.facts(facts(good.id, 'completed', { endedAtMs: 2, exitCode: 0, endReason: 'completed' }));
    bad.journal.facts(facts(bad.id, 'running'));
    first.records.close();
    writeFileSync(join(dir.path, AGENTS_DIR, bad.id, 'record.json'), '{"v":1,"id":"tr');

    const second = open();
    expect(second.records.restored.map((r) => r.record.name)).toEqual(['good']);
    expect(second.logs).toHaveLength(1);
    expect(second.logs[0]).toMatch(
      new RegExp(`agent record .*${bad.id}.*record\\.json is unreadable .*moved it to .*${ASIDE_DIR}`),
    );
    expect(existsSync(join(dir.path, AGENTS_DIR, bad.id))).toBe(false);
    expect(readdirSync(join(dir.path, ASIDE_DIR))).toHaveLength(1);
  });

  it('moves a corrupt output file aside, keeping the lines before the damage', () => {
    const first = open();
    const a = newAgent(first.records);
    write(a.journal, 0, 'good line');
    a.journal.facts(facts(a.id, 'failed', { endedAtMs: 5, exitCode: 2, endReason: 'failed' }));
    first.records.close();
    const agentDir = join(dir.path, AGENTS_DIR, a.id);
    const out = readdirSync(agentDir).find((f) => f.startsWith('out-')) ?? '';
    appendFileSync(join(agentDir, out), 'Xnot a stream byte\noafter\n');

    const second = open();
    expect(replay(second.records, 0).read('both', 0, 10).lines).toEqual(['good line']);
    expect(second.logs.join('\n')).toMatch(/output file is corrupt at byte \d+; moved it to /);
    expect(second.records.restored[0]?.facts).toMatchObject({
      status: 'failed',
      exitCode: 2,
      endReason: 'failed',
    });
  });

  it('keeps the output files within the disk budget, oldest first, counting what it deleted as dropped', () => {
    const budget = 64 * 1024; // files of 4 KiB
    const first = open(budget);
    const old = newAgent(first.records, 'old');
    const line = 'x'.repeat(98); // 100 bytes on disk with its stream byte and newline
    for (let i = 0; i < 600; i++)
      write(old.journal, i % 2 === 0 ? 0 : 1, `${String(i).padStart(4, '0')}${line.slice(4)}`);
    old.journal.facts(facts(old.id, 'completed', { endedAtMs: 9, exitCode: 0, endReason: 'completed' }));
    const young = newAgent(first.records, 'young');
    for (let i = 0; i < 300; i++) write(young.journal, 0, `${String(i).padStart(4, '0')}${line.slice(4)}`);
    young.journal.facts(facts(young.id, 'completed', { endedAtMs: 10, exitCode: 0, endReason: 'completed' }));
    expect(first.records.heldBytes).toBeLessThanOrEqual(budget);
    first.records.close();

    const second = open(budget);
    expect(second.records.heldBytes).toBeLessThanOrEqual(budget);
    const [oldRecord, youngRecord] = second.records.restored.map((r) => r.record);
    // 900 lines of 100 bytes do not fit in 64 KiB: the old agent's output went first.
    expect((oldRecord?.dropped_stdout ?? 0) + (oldRecord?.dropped_stderr ?? 0)).toBeGreaterThan(0);
    expect(youngRecord?.dropped_stdout).toBe(0);
    const store = replay(second.records, 0);
    const dropped = store.dropped('both');
    expect(dropped + store.lineCount).toBe(600);
    // What is left is the newest part, in order.
    expect(store.read('both', store.lineCount - 1, 1).lines[0]?.slice(0, 4)).toBe('0599');
    expect(store.read('both', 0, 1).lines[0]?.slice(0, 4)).toBe(String(dropped).padStart(4, '0'));
    expect(replay(second.records, 1).lineCount).toBe(300);
  });

  it('forget removes the agent from disk', () => {
    const first = open();
    const a = newAgent(first.records);
    write(a.journal, 0, 'x');
    a.journal.facts(facts(a.id, 'completed', { endedAtMs: 2, exitCode: 0, endReason: 'completed' }));
    first.records.forget(a.id);
    first.records.close();
    expect(open().records.restored).toEqual([]);
  });

  it('writes a run of lines as it writes them one by one, files and buffers split alike', () => {
    // 1 MiB budget: 64 KiB files and buffers, which the runs (one of ~110 KB) cross.
    const first = open(MiB);
    const runs = newAgent(first.records, 'runs');
    const single = newAgent(first.records, 'single');
    const expected: string[] = [];
    for (let r = 0; r < 12; r++) {
      const tag = r % 4 === 3 ? 1 : 0;
      const texts = Array.from({ length: r === 5 ? 8000 : 1 + ((r * 997) % 2500) }, (_v, i) =>
        i % 7 === 0 ? '' : `r${r} ✓ ${i}`,
      );
      const run = Buffer.from(texts.map((t) => `${t}\n`).join(''));
      // The run sits inside a larger buffer, as lines do in an output chunk.
      const chunk = Buffer.concat([Buffer.from('before'), run, Buffer.from('after')]);
      runs.journal.lines(tag, chunk, 6, 6 + run.length, texts.length);
      for (const t of texts) write(single.journal, tag, t);
      expected.push(...texts);
    }
    for (const a of [runs, single]) {
      a.journal.facts(facts(a.id, 'completed', { endedAtMs: 2, exitCode: 0, endReason: 'completed' }));
    }
    first.records.close();
    const filesOf = (id: string) => {
      const agentDir = join(dir.path, AGENTS_DIR, id);
      return readdirSync(agentDir)
        .filter((f) => f.startsWith('out-'))
        .map((f) => readFileSync(join(agentDir, f)));
    };
    const runFiles = filesOf(runs.id);
    expect(runFiles.length).toBeGreaterThan(1);
    expect(runFiles).toEqual(filesOf(single.id));

    const second = open(MiB);
    const store = replay(second.records, 0);
    expect(store.read('both', 0, 200_000).lines).toEqual(expected);
    expect(store.read('stderr', 0, 200_000).totalLines).toBe(
      replay(second.records, 1).read('stderr', 0, 0).totalLines,
    );
  });
});
