import { encode } from '@msgpack/msgpack';
import * as zmq from 'zeromq';
import { curveClientOptions } from '../../helpers/testKeys';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { spawnAgent, waitForStatus } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { RawClient } from '../../helpers/rawClient';
import { healthCheck, newRequestId, spawnRequest } from '../../helpers/requests';
import { useServerHarness } from '../../helpers/serverHarness';
import { isProcessRunning } from '../../helpers/processes';

const ports = new PortAllocator(23000, 23199);
const EMPTY = new Uint8Array(0);

describe('agent server: bad input never stops it', () => {
  const h = useServerHarness(ports, {
    config: { backends: nodeBackends() },
  });

  async function counters(): Promise<Record<string, number>> {
    const reply = await h.client.request(healthCheck());
    return Object.fromEntries(Object.entries(reply.metadata ?? {}).map(([k, v]) => [k, Number(v)]));
  }

  async function assertAlive(): Promise<void> {
    const reply = await h.client.request(healthCheck(), 5000);
    expect(reply.healthy).toBe(true);
    expect(isProcessRunning(h.server.pid ?? 0)).toBe(true);
  }

  it('a zeromq.js REQ client gets one reply per request (empty delimiter handled by REQ)', async () => {
    const req = new zmq.Request({ linger: 0, receiveTimeout: 5000, ...curveClientOptions(h.server.curve) });
    req.connect(h.server.bind);
    try {
      for (let i = 0; i < 3; i++) {
        const request = healthCheck();
        await req.send(encodeMessage(request));
        const frames = await req.receive();
        expect(frames).toHaveLength(1);
        const reply = decodeMessage(frames[0] ?? EMPTY);
        expect(reply).toMatchObject({
          type: 'health_check_response',
          request_id: request.request_id,
          healthy: true,
        });
      }
    } finally {
      req.close();
    }
  });

  it('a request in map form (as a hand-made client may send) is understood', async () => {
    const id = newRequestId();
    const pending = h.client.reply(id);
    await h.client.sendRaw([EMPTY, encode({ type: 'health_check_request', request_id: id })]);
    expect(await pending).toMatchObject({ type: 'health_check_response', healthy: true });
  });

  it('extra frames after the msgpack frame are ignored', async () => {
    const request = healthCheck();
    const pending = h.client.reply(request.request_id);
    await h.client.sendRaw([EMPTY, encodeMessage(request), 'trailing frame']);
    expect(await pending).toMatchObject({ type: 'health_check_response', healthy: true });
  });

  it('a garbage frame is counted and ignored', async () => {
    const before = await counters();
    await h.client.sendRaw([EMPTY, Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37])]);
    await h.client.sendRaw([EMPTY, Buffer.from('definitely not msgpack')]);
    await h.client.sendRaw([EMPTY, EMPTY]);
    await assertAlive();
    const after = await counters();
    expect(after['stat.decode_errors']).toBeGreaterThanOrEqual((before['stat.decode_errors'] ?? 0) + 2);
  });

  it('an unknown tag with a readable request_id → command_response success:false naming the tag', async () => {
    const before = await counters();
    const id = newRequestId();
    const pending = h.client.reply(id);
    await h.client.sendRaw([EMPTY, encode(['launch_missiles', id, 'now'])]);
    const reply = await pending;
    expect(reply.type).toBe('command_response');
    if (reply.type !== 'command_response') return;
    expect(reply.success).toBe(false);
    expect(reply.error).toContain('launch_missiles');

    const mapId = newRequestId();
    const mapPending = h.client.reply(mapId);
    await h.client.sendRaw([EMPTY, encode({ type: 'self_destruct', request_id: mapId })]);
    const mapReply = await mapPending;
    expect(mapReply).toMatchObject({ type: 'command_response', success: false });
    expect(JSON.stringify(mapReply)).toContain('self_destruct');
    const after = await counters();
    expect(after['stat.unknown_tags']).toBe((before['stat.unknown_tags'] ?? 0) + 2);
  });

  it('a known request with a bad field → the reply type of that request, success:false naming the field', async () => {
    const id = newRequestId();
    const pending = h.client.reply(id);
    await h.client.sendRaw([EMPTY, encode(['control_command', id, 'not-a-uuid', 'pause', null])]);
    const reply = await pending;
    expect(reply).toMatchObject({ type: 'command_response', success: false });
    expect(JSON.stringify(reply)).toContain('agent_id');

    const queryId = newRequestId();
    const queryPending = h.client.reply(queryId);
    await h.client.sendRaw([
      EMPTY,
      encode(['output_query_request', queryId, '6f1c2a9e-5b7d-4c3e-9a8b-0d1e2f3a4b5c', 'sideways']),
    ]);
    const queryReply = await queryPending;
    expect(queryReply).toMatchObject({ type: 'output_query_response', success: false });
    expect(JSON.stringify(queryReply)).toContain('stream');

    const spawnId = newRequestId();
    const spawnPending = h.client.reply(spawnId);
    await h.client.sendRaw([EMPTY, encode(['spawn_request', spawnId, 'not a config'])]);
    const spawnReply = await spawnPending;
    expect(spawnReply).toMatchObject({ type: 'spawn_response', success: false });
    expect(JSON.stringify(spawnReply)).toContain('config');
  });

  it('a request_id over 128 bytes is refused and nothing runs; over 1 KiB it gets no reply at all', async () => {
    const before = await counters();
    const name = `long-id-${newRequestId()}`;
    const atLimit = await h.client.request(
      spawnRequest(
        { name: `${name}-ok`, model_backend: 'shell', task: 'exit 0' },
        { requestId: 'a'.repeat(128) },
      ),
    );
    expect(atLimit.error ?? null).toBeNull();
    expect(atLimit.success).toBe(true);

    const long = 'b'.repeat(129);
    const refused = await h.client.request(
      spawnRequest({ name, model_backend: 'shell', task: 'exit 0' }, { requestId: long }),
    );
    expect(refused).toMatchObject({ type: 'spawn_response', request_id: long, success: false });
    expect(refused.error).toBe('request_id of 129 bytes exceeds the 128-byte limit; use a UUID');

    const huge = 'c'.repeat(2000);
    await h.client.sendRaw([
      EMPTY,
      encodeMessage(spawnRequest({ name, model_backend: 'shell', task: 'exit 0' }, { requestId: huge })),
    ]);
    // A reply sent to the server with such an id is not echoed either.
    const hugeReply = 'd'.repeat(2000);
    await h.client.sendRaw([
      EMPTY,
      encodeMessage({
        type: 'health_check_response',
        request_id: hugeReply,
        healthy: true,
        protocol_version: '1.0.0',
        uptime_secs: null,
        active_agents: null,
        metadata: null,
      }),
    ]);
    await assertAlive(); // answered after the huge ones: their replies, had there been any, came first
    expect(h.client.arrivals).not.toContain(huge);
    expect(h.client.arrivals).not.toContain(hugeReply);

    const after = await counters();
    expect(after['stat.bad_request_ids']).toBe((before['stat.bad_request_ids'] ?? 0) + 2);
    expect(after['stat.spawned']).toBe((before['stat.spawned'] ?? 0) + 1);
    const list = await h.client.request({
      type: 'list_agents_request',
      request_id: newRequestId(),
      filter_status: null,
      limit: null,
    });
    const names = list.agents.map((a) => a.name);
    expect(names).toContain(`${name}-ok`);
    expect(names).not.toContain(name);
  });

  it('a one-frame message without the empty delimiter does not stop the server', async () => {
    await h.client.sendRaw([encodeMessage(healthCheck())]);
    await h.client.sendRaw([Buffer.from('junk')]);
    await assertAlive();
  });

  it('a frame over 10 MiB is dropped; the server survives and answers the next client', async () => {
    const big = RawClient.connect(h.server.bind, h.server.curve);
    try {
      await big.sendRaw([EMPTY, Buffer.alloc(10 * 1024 * 1024 + 1024, 0x61)]);
      // Give libzmq time to receive (and refuse) the frame before probing.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await big.close();
    }
    const next = RawClient.connect(h.server.bind, h.server.curve);
    try {
      const reply = await next.request(healthCheck(), 5000);
      expect(reply.healthy).toBe(true);
    } finally {
      await next.close();
    }
    await assertAlive();
  });

  it('a message just under the limit with a large value is handled', async () => {
    const echo = spawnRequest({ model_backend: 'no-such-backend', task: 'x'.repeat(4 * 1024 * 1024) });
    const reply = await h.client.request(echo, 20_000);
    expect(reply.success).toBe(false);
    expect(reply.error).toContain('no-such-backend');
  });

  it('a child that exits at once is reported completed and the server keeps answering', async () => {
    const agent = await spawnAgent(h.client, fixtureAgent('exit.js'));
    await waitForStatus(h.client, agent.id, 'completed');
    const shell = await spawnAgent(h.client, { model_backend: 'shell', task: 'exit 0' });
    await waitForStatus(h.client, shell.id, 'completed');
    await assertAlive();
  });

  it('the client saw no framing violations', () => {
    expect(h.client.violations).toEqual([]);
  });
});
