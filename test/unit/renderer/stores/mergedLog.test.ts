import { describe, expect, it } from 'vitest';
import type { LogChunkView } from '../../../../shared/ipc';
import {
  MERGED_LOG_MAX_AGENTS,
  MERGED_LOG_MAX_LINES,
  useMergedLogStore,
} from '../../../../renderer/src/stores/mergedLog';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { manualFrames, withFreshApp } from '../setup';

const chunk = (text: string, stream: LogChunkView['stream'] = 'stdout', sequence = 0): LogChunkView => ({
  stream,
  text,
  sequence,
});

describe('merged log store', () => {
  const ctx = withFreshApp();

  /** Two agents on `north`, one on `south`, tailed in that order; returns their subscription ids. */
  async function openThree() {
    const north = ctx.fake.addServer('north');
    const south = ctx.fake.addServer('south');
    const [a, b] = ctx.fake.addAgents(north, 2);
    const [c] = ctx.fake.addAgents(south, 1);
    if (!a || !b || !c) throw new Error('agents missing');
    await useServersStore().start();
    const frames = manualFrames();
    const log = useMergedLogStore();
    await log.open([
      { serverId: north, agentId: a.id },
      { serverId: north, agentId: b.id },
      { serverId: south, agentId: c.id },
    ]);
    const subOf = (agentId: string): string =>
      [...ctx.fake.subscriptions].find(([, s]) => s.kind === 'logs' && s.agentId === agentId)?.[0] ?? '';
    const send = (agentId: string, ...chunks: LogChunkView[]): void => {
      ctx.fake.emit('logs', { subscriptionId: subOf(agentId), chunks });
    };
    const texts = (): string[] =>
      log.shown.map((l) => `${log.sources[l.source]?.name ?? '?'}|${l.stream}|${l.text}`);
    return { log, frames, a, b, c, north, south, send, subOf, texts };
  }

  it('tails each agent once, names each with its server, and interleaves lines in arrival order', async () => {
    const { log, frames, a, b, c, send, texts } = await openThree();
    expect([...ctx.fake.subscriptions.values()].filter((s) => s.kind === 'logs')).toHaveLength(3);
    expect(log.sources.map((s) => `${s.name}@${s.serverName}#${s.colour}`)).toEqual([
      'agent-00000@north#0',
      'agent-00001@north#1',
      'agent-00000@south#2',
    ]);
    send(a.id, chunk('a1\na2\n'));
    send(c.id, chunk('c1\n'));
    send(b.id, chunk('b1 partial '));
    send(a.id, chunk('a3\n'));
    send(b.id, chunk('end\n'), chunk('b-err\n', 'stderr'));
    frames.run();
    expect(texts()).toEqual([
      'agent-00000|stdout|a1',
      'agent-00000|stdout|a2',
      'agent-00000|stdout|c1',
      'agent-00000|stdout|a3',
      'agent-00001|stdout|b1 partial end',
      'agent-00001|stderr|b-err',
    ]);
    // Same names on two servers: the source (and its colour) tells them apart.
    expect(log.shown.map((l) => l.source)).toEqual([0, 0, 2, 0, 1, 1]);
    await log.close();
    expect([...ctx.fake.subscriptions.values()].filter((s) => s.kind === 'logs')).toHaveLength(0);
  });

  it('filters every agent with the single-agent rules, and refuses a bad pattern with the reason', async () => {
    const { log, frames, a, c, send, texts } = await openThree();
    send(a.id, chunk('ERROR disk full\nall good\n'));
    send(c.id, chunk('error: retry\n'));
    frames.run();
    expect(log.applyFilter('/error/i')).toBe(true);
    expect(texts()).toEqual(['agent-00000|stdout|ERROR disk full', 'agent-00000|stdout|error: retry']);
    send(a.id, chunk('another error\nfine\n'));
    frames.run();
    expect(log.total).toBe(3);
    expect(log.applyFilter('(')).toBe(false);
    expect(log.filterError).toMatch(/^Invalid regular expression: .*Fix the pattern/);
    expect(log.appliedFilter).toBe('/error/i'); // the previous filter stays in force
    log.applyFilter('');
    log.setStream('stderr');
    expect(log.total).toBe(0);
  });

  it('fills a loss in one agent with the stored lines it missed, with their streams, after a note', async () => {
    const { log, frames, a, c, send, subOf, texts } = await openThree();
    send(a.id, chunk('a1\na2\n', 'stdout', 1), chunk('a3\n', 'stderr', 2));
    send(c.id, chunk('c1\n', 'stdout', 1));
    // Chunks 3 and 4 of `a` were lost; chunk 5 arrived before the backfill.
    send(a.id, chunk('a6\n', 'stdout', 5));
    frames.run();
    ctx.fake.emit('backfill', {
      subscriptionId: subOf(a.id),
      lostFrom: 3,
      lines: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'],
      streams: ['stdout', 'stdout', 'stderr', 'stderr', 'stdout', 'stdout', 'stdout'],
    });
    expect(texts().slice(5)).toEqual([
      'agent-00000|gap|3 lines of agent-00000 lost in transit, reloaded from the server below',
      'agent-00000|stderr|a4',
      'agent-00000|stdout|a5',
      // Stored after a6, and dropped with the lost chunks' batch: not shown before.
      'agent-00000|stdout|a7',
    ]);
    expect(log.sources[0]?.gaps).toBe(1);
    // A gap line survives any filter: the operator must know lines were lost.
    log.applyFilter('nothing matches this');
    expect(log.shown.map((l) => l.stream)).toEqual(['gap']);
  });

  it('says when repeated lines leave the size of a loss uncertain, and adds nothing it already shows', async () => {
    const { log, frames, a, send, subOf, texts } = await openThree();
    send(a.id, chunk('tick\ntick\n', 'stdout', 1));
    send(a.id, chunk('tick\n', 'stdout', 4));
    frames.run();
    ctx.fake.emit('backfill', {
      subscriptionId: subOf(a.id),
      lostFrom: 2,
      lines: ['tick', 'tick', 'tick', 'tick', 'tick'],
      streams: ['stdout', 'stdout', 'stdout', 'stdout', 'stdout'],
    });
    expect(texts()[3]).toMatch(
      /^agent-00000\|gap\|some output of agent-00000 was lost in transit; .* may not be all of it — open agent-00000's output for its complete log$/,
    );
    expect(log.sources[0]?.gaps).toBe(1);
  });

  it('adds no note when the lost chunks held no whole line', async () => {
    const { log, frames, a, send, subOf } = await openThree();
    send(a.id, chunk('one\ntwo\n', 'stdout', 1), chunk('three\n', 'stdout', 3));
    frames.run();
    ctx.fake.emit('backfill', {
      subscriptionId: subOf(a.id),
      lostFrom: 2,
      lines: ['one', 'two', 'three'],
      streams: ['stdout', 'stdout', 'stdout'],
    });
    expect(log.shown.map((l) => l.text)).toEqual(['one', 'two', 'three']);
    expect(log.sources[0]?.gaps).toBe(0);
  });

  it('keeps at most the bound, dropping the oldest lines and counting them', async () => {
    const { log, frames, a, send } = await openThree();
    const batch = Array.from({ length: 1000 }, (_, i) => `l${i}`).join('\n') + '\n';
    const rounds = MERGED_LOG_MAX_LINES / 1000 + 5;
    for (let i = 0; i < rounds; i++) {
      send(a.id, chunk(batch));
      frames.run();
    }
    expect(log.lines.length).toBeLessThanOrEqual(MERGED_LOG_MAX_LINES);
    expect(log.droppedCount + log.lines.length).toBe(rounds * 1000);
    expect(log.droppedCount).toBeGreaterThan(0);
    // The newest line is kept; arrival order is intact.
    expect(log.shown.at(-1)?.text).toBe('l999');
    const seqs = log.shown.map((l) => l.seq);
    expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? 0))).toBe(true);
  });

  it('holds lines while paused and shows them on resume', async () => {
    const { log, frames, a, send } = await openThree();
    log.setPaused(true);
    send(a.id, chunk('x1\nx2\n'));
    frames.run();
    expect(log.total).toBe(0);
    expect(log.heldCount).toBe(2);
    log.setPaused(false);
    expect(log.shown.map((l) => l.text)).toEqual(['x1', 'x2']);
  });

  it('refuses no agents and too many agents with a next step', async () => {
    const log = useMergedLogStore();
    await log.open([]);
    expect(log.error).toMatch(/No agents to show: select agents/);
    const server = ctx.fake.addServer('big');
    const many = ctx.fake.addAgents(server, MERGED_LOG_MAX_AGENTS + 1);
    await log.open(many.map((m) => ({ serverId: server, agentId: m.id })));
    expect(log.error).toBe(`33 agents selected; a merged log tails at most 32. Select fewer agents.`);
    expect(ctx.fake.callsOf('tailLogs')).toEqual([]);
  });
});
