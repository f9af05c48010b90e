import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogStream, StatusUpdate } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { spawnAgent } from '../../helpers/agentOps';
import { EventCollector } from '../../helpers/eventCollector';
import type { ReceivedEvent } from '../../helpers/eventCollector';
import { PortAllocator } from '../../helpers/ports';
import { controlCommand, NIL_UUID } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';

const ports = new PortAllocator(22800, 22999);
const HEARTBEAT_MS = 200;

function seqOf(update: StatusUpdate): number {
  const data = update.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || data instanceof Uint8Array) {
    throw new Error(`status_update without a data object: ${JSON.stringify(update)}`);
  }
  if (typeof data.seq !== 'number')
    throw new Error(`status_update data without a numeric seq: ${JSON.stringify(data)}`);
  return data.seq;
}

function statusUpdates(events: readonly ReceivedEvent[]): { topic: string; update: StatusUpdate }[] {
  return events.flatMap((e) =>
    e.message.type === 'status_update' ? [{ topic: e.topic, update: e.message }] : [],
  );
}

function logLines(events: readonly ReceivedEvent[], agentId: string): { topic: string; log: LogStream }[] {
  return events.flatMap((e) =>
    e.message.type === 'log_stream' && e.message.agent_id === agentId
      ? [{ topic: e.topic, log: e.message }]
      : [],
  );
}

describe('agent server: PUB status stream and log stream', () => {
  const h = useServerHarness(ports, {
    args: ['--heartbeat-ms', String(HEARTBEAT_MS)],
    config: { backends: nodeBackends() },
  });
  let events: EventCollector;

  beforeAll(async () => {
    // Subscribe to everything before any agent exists, and wait for a heartbeat: from then on
    // no event of this server can be missed (short of a PUB high-water-mark drop).
    events = EventCollector.connect(h.server.pub, [''], h.server.curve);
    await events.waitFor((e) => e.topic === `status.${NIL_UUID}`, 5000, 'first heartbeat');
  });
  afterAll(async () => {
    await events.close();
  });

  it('heartbeats: topic status.<nil uuid>, update_type heartbeat, every --heartbeat-ms', async () => {
    const first = await events.waitFor((e) => e.topic === `status.${NIL_UUID}`);
    await events.waitFor(
      (e) => e.topic === `status.${NIL_UUID}` && e.receivedAt > first.receivedAt + HEARTBEAT_MS * 2,
      3000,
    );
    const beats = events.events.filter((e) => e.topic === `status.${NIL_UUID}`);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    for (const beat of beats) {
      expect(beat.message.type).toBe('status_update');
      if (beat.message.type !== 'status_update') continue;
      expect(beat.message.update_type).toBe('heartbeat');
      expect(beat.message.agent_id).toBe(NIL_UUID);
      expect(Number(beat.message.timestamp.secs_since_epoch)).toBeGreaterThan(Date.now() / 1000 - 60);
    }
    const gaps = beats.slice(1).map((b, i) => b.receivedAt - (beats[i]?.receivedAt ?? 0));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(HEARTBEAT_MS * 0.4);
      expect(gap).toBeLessThan(HEARTBEAT_MS * 5);
    }
    expect(events.violations).toEqual([]);
  });

  it('spawn → running, pause → paused, resume → running, stop → terminated, on topic status.<uuid>', async () => {
    const agent = await spawnAgent(h.client, fixtureAgent('action-agent.js'));
    const topic = `status.${agent.id}`;
    const has =
      (status: string, after = 0) =>
      (e: ReceivedEvent) =>
        e.topic === topic &&
        e.message.type === 'status_update' &&
        e.message.status === status &&
        e.receivedAt >= after;
    await events.waitFor(has('running'));
    expect((await h.client.request(controlCommand(agent.id, 'pause', { force: true }))).success).toBe(true);
    const paused = await events.waitFor(has('paused'));
    expect((await h.client.request(controlCommand(agent.id, 'resume'))).success).toBe(true);
    await events.waitFor(has('running', paused.receivedAt));
    expect((await h.client.request(controlCommand(agent.id, 'stop'))).success).toBe(true);
    await events.waitFor(has('terminated'));

    const changes = statusUpdates(events.events)
      .filter((u) => u.update.agent_id === agent.id && u.update.update_type !== 'output_available')
      .map((u) => u.update.status);
    expect(changes).toEqual(['running', 'paused', 'running', 'terminated']);
    for (const u of statusUpdates(events.events).filter((x) => x.update.agent_id === agent.id))
      expect(u.topic).toBe(topic);
  });

  it('exit 0 → completed, non-zero exit → failed', async () => {
    const ok = await spawnAgent(h.client, fixtureAgent('exit.js', { EXIT_CODE: '0' }));
    const bad = await spawnAgent(h.client, fixtureAgent('exit.js', { EXIT_CODE: '7' }));
    await events.waitFor(
      (e) =>
        e.topic === `status.${ok.id}` &&
        e.message.type === 'status_update' &&
        e.message.status === 'completed',
    );
    await events.waitFor(
      (e) =>
        e.topic === `status.${bad.id}` && e.message.type === 'status_update' && e.message.status === 'failed',
    );
  });

  it('log_stream: topic <uuid>, stream types, sequence 1, 2, 3… per agent, data = the line bytes', async () => {
    const script: [string, string][] = Array.from({ length: 30 }, (_, i) => [
      i % 3 === 0 ? 'err' : 'out',
      `log line ${i} ✓`,
    ]);
    const agent = await spawnAgent(
      h.client,
      fixtureAgent('lines.js', { LINES: JSON.stringify(script), LINE_DELAY_MS: '2' }),
    );
    // The server reads the child's pipes in whatever chunks the OS hands it: under load one
    // event may carry several lines, so the test waits for the text, not for a count of events.
    const decoder = new TextDecoder();
    const textOf = (stream: string): string =>
      logLines(events.events, agent.id)
        .filter((l) => l.log.stream_type === stream)
        .map((l) => decoder.decode(l.log.data as Uint8Array))
        .join('');
    const lastOut = script.filter(([s]) => s === 'out').at(-1)?.[1] ?? '';
    const lastErr = script.filter(([s]) => s === 'err').at(-1)?.[1] ?? '';
    await events.waitFor(
      () => textOf('stdout').includes(lastOut) && textOf('stderr').includes(lastErr),
      10_000,
      'last log line',
    );
    const logs = logLines(events.events, agent.id);
    expect(logs.map((l) => l.log.sequence)).toEqual(logs.map((_, i) => i + 1));
    for (const { topic, log } of logs) {
      expect(topic).toBe(agent.id);
      expect(log.data).toBeInstanceOf(Uint8Array);
      expect(Number(log.timestamp.secs_since_epoch)).toBeGreaterThan(Date.now() / 1000 - 60);
    }
    const lines = (stream: string): string[] =>
      textOf(stream)
        .split(/\r?\n/)
        .filter((l) => l !== '');
    expect(lines('stdout')).toEqual(script.filter(([s]) => s === 'out').map(([, t]) => t));
    expect(lines('stderr')).toEqual(script.filter(([s]) => s === 'err').map(([, t]) => t));
    await h.client.request(controlCommand(agent.id, 'kill'));
  });

  it('output_available at most every 250 ms per agent', async () => {
    const script = Array.from({ length: 60 }, (_, i) => ['out', `tick ${i}`]);
    const agent = await spawnAgent(
      h.client,
      fixtureAgent('lines.js', { LINES: JSON.stringify(script), LINE_DELAY_MS: '15' }),
    );
    await events.waitFor(
      (e) => e.message.type === 'log_stream' && e.message.agent_id === agent.id && e.message.sequence === 60,
      15_000,
    );
    await new Promise((r) => setTimeout(r, 400));
    const available = events.events.filter(
      (e) =>
        e.topic === `status.${agent.id}` &&
        e.message.type === 'status_update' &&
        e.message.update_type === 'output_available',
    );
    expect(available.length).toBeGreaterThanOrEqual(1);
    // Timer jitter on a busy machine: allow 60 ms below the 250 ms spacing at the receiver.
    for (let i = 1; i < available.length; i++) {
      expect((available[i]?.receivedAt ?? 0) - (available[i - 1]?.receivedAt ?? 0)).toBeGreaterThan(190);
    }
    await h.client.request(controlCommand(agent.id, 'kill'));
  });

  it('data.seq increases by exactly one per status_update across all topics (no gaps)', () => {
    const seqs = statusUpdates(events.events).map((u) => seqOf(u.update));
    expect(seqs.length).toBeGreaterThan(10);
    const expected = seqs.map((_, i) => (seqs[0] ?? 0) + i);
    expect(seqs).toEqual(expected);
    expect(events.violations).toEqual([]);
  });
});
