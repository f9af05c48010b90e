import { afterEach, describe, expect, it } from 'vitest';
import { EventBatcher } from '../../../../../main/core/ipc/eventBatcher';
import type { ConsoleEventEnvelope } from '../../../../../shared/ipc';
import type { QueuedCommand } from '../../../../../shared/domain/command';
import type { ServerStatus } from '../../../../../shared/domain/server';
import type { StatusUpdate } from '../../../../../shared/protocol';

const batchers: EventBatcher[] = [];
afterEach(() => {
  for (const b of batchers.splice(0)) b.dispose();
});

function make(options: ConstructorParameters<typeof EventBatcher>[1] = {}) {
  const batches: { at: number; events: ConsoleEventEnvelope[] }[] = [];
  const b = new EventBatcher((events) => batches.push({ at: Date.now(), events }), options);
  batchers.push(b);
  return { b, batches };
}

const status = (serverId: string, state: ServerStatus['state']): ServerStatus => ({
  serverId,
  state,
  lastHeardAt: null,
  lastError: null,
  remoteServerId: null,
  capabilities: [],
  legacy: false,
  activeAgents: null,
  pubEndpoint: null,
  pendingCommands: 0,
  nextAttemptAt: null,
  retrying: false,
  handshakeProblem: null,
});
const update = (n: number): StatusUpdate => ({
  type: 'status_update',
  agent_id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  update_type: 'status_changed',
  status: 'running',
  message: null,
  data: { seq: n },
  timestamp: { secs_since_epoch: n, nanos_since_epoch: 0 },
});
const command = (id: string, state: QueuedCommand['state']) => ({ id, state }) as unknown as QueuedCommand;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('EventBatcher', () => {
  it('keeps only the newest server status and command version per batch', async () => {
    const { b, batches } = make();
    b.add({ name: 'servers', payload: [status('a', 'connecting')] });
    b.add({ name: 'servers', payload: [status('a', 'online'), status('b', 'offline')] });
    b.add({ name: 'queue', payload: [command('c1', 'queued')] });
    b.add({ name: 'queue', payload: [command('c1', 'succeeded')] });
    await sleep(20);
    expect(batches).toHaveLength(1);
    const [servers, queue] = batches[0]?.events ?? [];
    expect(servers).toEqual({ name: 'servers', payload: [status('a', 'online'), status('b', 'offline')] });
    expect(queue).toEqual({ name: 'queue', payload: [command('c1', 'succeeded')] });
  });

  it('delivers at most one batch per interval under a steady stream', async () => {
    const { b, batches } = make({ intervalMs: 50 });
    const end = Date.now() + 400;
    let n = 0;
    while (Date.now() < end) {
      b.add({ name: 'status', payload: { serverId: 's', updates: [update(n++)] } });
      await sleep(2);
    }
    b.flush();
    expect(batches.length).toBeLessThanOrEqual(400 / 50 + 2);
    for (let i = 1; i < batches.length - 1; i++) {
      expect((batches[i]?.at ?? 0) - (batches[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(45);
    }
    const delivered = batches.flatMap((x) =>
      x.events.flatMap((e) => (e.name === 'status' ? e.payload.updates : [])),
    );
    expect(delivered.map((u) => (u.data as { seq: number }).seq)).toEqual([...Array(n).keys()]);
  });

  it('caps status updates, dropping the oldest with a resync notice', () => {
    const { b, batches } = make({ maxStatusUpdates: 3 });
    b.add({ name: 'status', payload: { serverId: 's', updates: [1, 2, 3, 4, 5].map(update) } });
    b.flush();
    const events = batches[0]?.events ?? [];
    expect(events[0]).toMatchObject({
      name: 'resync',
      payload: { serverId: 's', reason: expect.stringContaining('2 status') as unknown },
    });
    expect(events[1]).toMatchObject({ name: 'status', payload: { updates: [3, 4, 5].map(update) } });
  });

  it('replaces waiting log chunks with a backfill and reports log overflow from the first chunk dropped', () => {
    const overflowed: string[] = [];
    const { b, batches } = make({
      maxLogChars: 10,
      onLogOverflow: (id, lostFrom) => overflowed.push(`${id} from ${lostFrom}`),
    });
    b.add({
      name: 'logs',
      payload: { subscriptionId: 't', chunks: [{ stream: 'stdout', text: 'old\n', sequence: 1 }] },
    });
    b.add({ name: 'backfill', payload: { subscriptionId: 't', lines: ['a', 'b'] } });
    b.add({
      name: 'logs',
      payload: { subscriptionId: 't', chunks: [{ stream: 'stdout', text: 'new\n', sequence: 9 }] },
    });
    b.flush();
    expect(batches[0]?.events).toEqual([
      { name: 'backfill', payload: { subscriptionId: 't', lines: ['a', 'b'] } },
      {
        name: 'logs',
        payload: { subscriptionId: 't', chunks: [{ stream: 'stdout', text: 'new\n', sequence: 9 }] },
      },
    ]);
    b.add({
      name: 'logs',
      payload: { subscriptionId: 'u', chunks: [{ stream: 'stderr', text: 'x'.repeat(6), sequence: 4 }] },
    });
    b.add({
      name: 'logs',
      payload: { subscriptionId: 'u', chunks: [{ stream: 'stderr', text: 'y'.repeat(6), sequence: 5 }] },
    });
    b.flush();
    expect(overflowed).toEqual(['u from 4']);
    expect(batches).toHaveLength(1);
  });

  it('sends nothing after dispose', async () => {
    const { b, batches } = make();
    b.add({ name: 'notification', payload: { level: 'info', title: 't', body: 'b' } });
    b.dispose();
    await sleep(70);
    expect(batches).toHaveLength(0);
  });
});
