import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BatchControlResponse,
  CommandResponse,
  HealthCheckResponse,
  OutputQueryResponse,
  ReplyMessage,
  RequestMessage,
  SpawnResponse,
  StatusUpdate,
} from '../../../shared/protocol';
import { decodeMessage, encodeMessage } from '../../../shared/protocol';
import { startAgentServer } from '../../../server/agentServer';
import type { AgentServer } from '../../../server/agentServer';
import { JOURNAL_FILE } from '../../../server/dedupeJournal';
import { OUTCOME_UNKNOWN } from '../../../server/requestHandler';
import { PortAllocator } from '../../helpers/ports';
import { createTempDir } from '../../helpers/tempDir';
import { curveClientOptions, TEST_CLIENT_KEYS } from '../../helpers/testKeys';
import type { TempDir } from '../../helpers/tempDir';

// In-process smoke tests over real sockets; the black-box suite lives in test/integration/server.
const ports = new PortAllocator(20000, 20199);

/** A DEALER client that correlates replies by request_id. */
class Client {
  readonly socket: zmq.Dealer;
  private readonly waiting = new Map<string, ((r: ReplyMessage) => void)[]>();
  private n = 0;
  /** @param serverKey the server's public key: the client speaks CURVE with the test key pair */
  constructor(endpoint: string, serverKey: string | null) {
    const socket = new zmq.Dealer({
      linger: 0,
      ...curveClientOptions(serverKey === null ? null : { serverKey }),
    });
    this.socket = socket;
    socket.connect(endpoint);
    void (async () => {
      for await (const [empty, body] of socket) {
        if (empty?.length !== 0 || !body) continue;
        const reply = decodeMessage(body) as ReplyMessage;
        this.waiting.get(reply.request_id)?.shift()?.(reply);
      }
    })().catch(() => undefined);
  }
  id(): string {
    return `req-${++this.n}-${Math.random().toString(16).slice(2)}`;
  }
  async sendRaw(bytes: Uint8Array, requestId: string | null, timeoutMs = 5000): Promise<ReplyMessage | null> {
    const got = requestId
      ? new Promise<ReplyMessage | null>((resolve) => {
          const list = this.waiting.get(requestId) ?? [];
          list.push(resolve);
          this.waiting.set(requestId, list);
          setTimeout(() => {
            resolve(null);
          }, timeoutMs);
        })
      : Promise.resolve(null);
    await this.socket.send([Buffer.alloc(0), bytes]);
    return got;
  }
  async request<R extends ReplyMessage>(req: RequestMessage, timeoutMs = 5000): Promise<R> {
    const reply = await this.sendRaw(encodeMessage(req), req.request_id, timeoutMs);
    if (!reply) throw new Error(`no reply to ${req.type} ${req.request_id}`);
    return reply as R;
  }
  close(): void {
    this.socket.close();
  }
}

describe('agent server (in-process, real sockets)', () => {
  let server: AgentServer;
  let client: Client;
  let bind: number;
  let tmp: TempDir;
  let execLog: string;

  beforeAll(async () => {
    tmp = await createTempDir('descartes-server-unit-');
    execLog = join(tmp.path, 'exec.log');
    bind = await ports.next();
    server = await startAgentServer({
      bind: `tcp://127.0.0.1:${bind}`,
      pub: `tcp://127.0.0.1:${await ports.next()}`,
      serverId: 'srv-test',
      heartbeatMs: 100,
      execLog,
      stateDir: join(tmp.path, 'state'),
      allowClients: [TEST_CLIENT_KEYS.publicKey],
    });
    client = new Client(server.bindEndpoint, server.publicKey);
  });

  afterAll(async () => {
    client.close();
    await server.close();
    await tmp.remove();
  });

  const spawnShell = async (task: string): Promise<SpawnResponse> =>
    client.request<SpawnResponse>({
      type: 'spawn_request',
      request_id: client.id(),
      config: { name: 'a', model_backend: 'shell', task, environment: {} },
    });

  it('answers a health check with capabilities, server id and a routable pub endpoint', async () => {
    const r = await client.request<HealthCheckResponse>({
      type: 'health_check_request',
      request_id: client.id(),
    });
    expect(r).toMatchObject({ type: 'health_check_response', healthy: true, protocol_version: '1.0.0' });
    expect(r.metadata).toMatchObject({
      server_id: 'srv-test',
      pub_endpoint: server.pubEndpoint,
      capabilities: 'custom_action,batch,output_query,dedupe,status_stream,output_line_numbers,agent_details',
      backends: 'claude,opencode,shell',
    });
    expect(r.metadata?.dedupe_epoch).toMatch(/^[0-9a-f]{16}$/);
    expect(r.metadata?.['stat.requests']).toMatch(/^\d+$/);
  });

  it('refuses a second server on the same port with a clear error', async () => {
    await expect(
      startAgentServer({
        bind: `tcp://127.0.0.1:${bind}`,
        pub: `tcp://127.0.0.1:${await ports.next()}`,
        insecure: true,
      }),
    ).rejects.toThrow(`cannot bind tcp://127.0.0.1:${bind}: address already in use`);
  });

  it('spawns, publishes status with seq, and answers output queries', async () => {
    const sub = new zmq.Subscriber({
      linger: 0,
      ...curveClientOptions({ serverKey: server.publicKey ?? '' }),
    });
    sub.connect(server.pubEndpoint);
    sub.subscribe('status.');
    const seen: StatusUpdate[] = [];
    void (async () => {
      for await (const [frame] of sub) {
        if (!frame) continue;
        const zero = frame.indexOf(0);
        seen.push(decodeMessage(frame.subarray(zero + 1)) as StatusUpdate);
      }
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 250)); // let the SUB join (and see a heartbeat)
    const spawned = await spawnShell('for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2');
    expect(spawned).toMatchObject({
      success: true,
      server_id: 'srv-test',
      agent_info: { status: 'running', model_backend: 'shell' },
    });
    const id = spawned.agent_info?.id ?? '';
    const deadline = Date.now() + 3000;
    while (!seen.some((s) => s.agent_id === id && s.update_type === 'completed') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    sub.close();
    expect(seen.some((s) => s.update_type === 'heartbeat')).toBe(true);
    const seqs = seen.map((s) => (s.data as { seq: number }).seq);
    expect(seqs.every((s, i) => i === 0 || s === (seqs[i - 1] ?? 0) + 1)).toBe(true);
    expect(seen.find((s) => s.agent_id === id && s.update_type === 'completed')?.status).toBe('completed');

    const q = await client.request<OutputQueryResponse>({
      type: 'output_query_request',
      request_id: client.id(),
      agent_id: id,
      stream: 'stdout',
      filter: 'line[2-4]',
      limit: 2,
      offset: 1,
    });
    expect(q).toMatchObject({ success: true, lines: ['line3', 'line4'], total_lines: 3, has_more: false });
    const bad = await client.request<OutputQueryResponse>({
      type: 'output_query_request',
      request_id: client.id(),
      agent_id: id,
      stream: 'both',
      filter: '(',
    });
    expect(bad.success).toBe(false);
    expect(bad.error).toMatch(/^invalid regex: /);
    // One lead, not the server's and the regex engine's both.
    expect(bad.error).not.toMatch(/invalid regular expression/i);
    expect(bad.error).toMatch(/Unterminated group/);
  });

  it('replays a duplicate request_id without running it twice', async () => {
    const spawned = await spawnShell('cat');
    const id = spawned.agent_info?.id ?? '';
    const req: RequestMessage = {
      type: 'control_command',
      request_id: client.id(),
      agent_id: id,
      command_type: 'write_stdin',
      payload: { data: 'once\n' },
    };
    const [a, b] = await Promise.all([
      client.request<CommandResponse>(req),
      client.request<CommandResponse>(req),
    ]);
    expect(a).toMatchObject({ success: true, data: { bytes: 5 } });
    expect(b).toEqual(a);
    expect(await client.request<CommandResponse>(req)).toEqual(a);
    await new Promise((r) => setTimeout(r, 200));
    const q = await client.request<OutputQueryResponse>({
      type: 'output_query_request',
      request_id: client.id(),
      agent_id: id,
      stream: 'stdout',
    });
    expect(q.lines).toEqual(['once']);
    const logged = readFileSync(execLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { request_id: string; type: string; command_type?: string });
    expect(logged.filter((l) => l.request_id === req.request_id)).toEqual([
      expect.objectContaining({ type: 'control_command', command_type: 'write_stdin', agent_id: id }),
    ]);
    expect(server.stats().replays).toBeGreaterThanOrEqual(2);
  });

  it('answers undecodable input and unknown agents with errors, and keeps running', async () => {
    const garbage = await client.sendRaw(
      Buffer.from([0x93, 0xa4, 0x6e, 0x6f, 0x70, 0x65, 0xa2, 0x72, 0x31, 0xc0]),
      'r1',
    );
    expect(garbage).toMatchObject({ type: 'command_response', request_id: 'r1', success: false });
    expect((garbage as CommandResponse).error).toMatch(/unknown message type 'nope'/);
    const missing = await client.request<CommandResponse>({
      type: 'control_command',
      request_id: client.id(),
      agent_id: '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b',
      command_type: 'get_status',
    });
    expect(missing.error).toBe('Agent not found: 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b');
    expect(server.stats().unknown_tags).toBeGreaterThanOrEqual(1);
    expect(server.stats().unknown_agent).toBeGreaterThanOrEqual(1);
  });

  it('answers a known request type with a bad field in its own reply type, naming the field', async () => {
    // ["control_command", "r-bad", <15-byte bin as agent_id>, "stop", nil]
    const bytes = Buffer.concat([
      Buffer.from([0x95, 0xaf]),
      Buffer.from('control_command'),
      Buffer.from([0xa5]),
      Buffer.from('r-bad'),
      Buffer.from([0xc4, 0x0f]),
      Buffer.alloc(15),
      Buffer.from([0xa4]),
      Buffer.from('stop'),
      Buffer.from([0xc0]),
    ]);
    const before = server.stats().decode_errors;
    const reply = (await client.sendRaw(bytes, 'r-bad')) as CommandResponse | null;
    expect(reply).toMatchObject({ type: 'command_response', request_id: 'r-bad', success: false });
    expect(reply?.error).toMatch(/^cannot decode request: .*agent_id/);
    expect(server.stats().decode_errors).toBe(before + 1);
  });

  it('runs a batch once per distinct agent, results in agent_ids order', async () => {
    const a = (await spawnShell('sleep 5')).agent_info?.id ?? '';
    const b = (await spawnShell('sleep 5')).agent_info?.id ?? '';
    const unknown = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';
    const r = await client.request<BatchControlResponse>({
      type: 'batch_control_command',
      request_id: client.id(),
      agent_ids: [b, unknown, a, b],
      command_type: 'get_status',
      fail_fast: false,
    });
    expect(r.results.map((x) => [x.agent_id, x.success])).toEqual([
      [b, true],
      [unknown, false],
      [a, true],
    ]);
    expect(r).toMatchObject({ success: false, successful: 2, failed: 1 });
    const ff = await client.request<BatchControlResponse>({
      type: 'batch_control_command',
      request_id: client.id(),
      agent_ids: [a, unknown, b],
      command_type: 'kill',
      fail_fast: true,
    });
    expect(ff.results.map((x) => [x.agent_id, x.status])).toEqual([
      [a, 'terminated'],
      [unknown, null],
    ]);
  });

  it('answers a health check while a custom action waits for its agent', async () => {
    const spawned = await spawnShell('sleep 5');
    const id = spawned.agent_info?.id ?? '';
    const slow = client.request<CommandResponse>({
      type: 'custom_action_request',
      request_id: client.id(),
      agent_id: id,
      action: 'never_answered',
      timeout_secs: 1,
    });
    const started = Date.now();
    await client.request<HealthCheckResponse>({ type: 'health_check_request', request_id: client.id() });
    expect(Date.now() - started).toBeLessThan(500);
    const r = await slow;
    expect(r.success).toBe(false);
    expect(r.error).toContain('timed out after 1 s');
  });
});

describe('agent server with a state dir', () => {
  it('answers resends after a restart from the journal, and reports a request cut off mid-way as outcome unknown', async () => {
    const tmp = await createTempDir('descartes-state-');
    const stateDir = join(tmp.path, 'state');
    const execLog = join(tmp.path, 'exec.log');
    const endpoints = async () => ({
      bind: `tcp://127.0.0.1:${await ports.next()}`,
      pub: `tcp://127.0.0.1:${await ports.next()}`,
    });
    try {
      const allowClients = [TEST_CLIENT_KEYS.publicKey];
      const first = await startAgentServer({ ...(await endpoints()), stateDir, execLog, allowClients });
      await expect(startAgentServer({ ...(await endpoints()), stateDir })).rejects.toThrow(
        /is in use by another server/,
      );
      let client = new Client(first.bindEndpoint, first.publicKey);
      const spawn: RequestMessage = {
        type: 'spawn_request',
        request_id: 'spawn-once',
        config: { name: 'a', model_backend: 'shell', task: 'exit 0', environment: {} },
      };
      const original = await client.request<SpawnResponse>(spawn);
      expect(original.success).toBe(true);
      client.close();
      await first.close();
      // The server "died" while running this one: a begin record without a reply.
      appendFileSync(
        join(stateDir, JOURNAL_FILE),
        `${JSON.stringify({ k: 'b', id: 'cut-off', t: 'control_command', at: Date.now() })}\n`,
      );

      const second = await startAgentServer({ ...(await endpoints()), stateDir, execLog });
      // The key pair survives the restart: the client's pinned key still fits.
      expect(second.publicKey).toBe(first.publicKey);
      client = new Client(second.bindEndpoint, second.publicKey);
      expect(await client.request<SpawnResponse>(spawn)).toEqual(original);
      const cut = await client.request<CommandResponse>({
        type: 'control_command',
        request_id: 'cut-off',
        agent_id: '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b',
        command_type: 'stop',
      });
      expect(cut).toMatchObject({ success: false, error: OUTCOME_UNKNOWN });
      expect(second.stats().replays).toBe(2);
      client.close();
      await second.close();
      const executed = readFileSync(execLog, 'utf8').trim().split('\n');
      expect(executed).toHaveLength(1);
    } finally {
      await tmp.remove();
    }
  });

  it('keeps its dedupe epoch across a restart, changes it when the journal is lost, and without a state dir advertises no dedupe', async () => {
    const tmp = await createTempDir('descartes-epoch-');
    const stateDir = join(tmp.path, 'state');
    const endpoints = async () => ({
      bind: `tcp://127.0.0.1:${await ports.next()}`,
      pub: `tcp://127.0.0.1:${await ports.next()}`,
    });
    const health = async (server: AgentServer, key: string | null) => {
      const c = new Client(server.bindEndpoint, key);
      try {
        const r = await c.request<HealthCheckResponse>({ type: 'health_check_request', request_id: c.id() });
        return r.metadata ?? {};
      } finally {
        c.close();
      }
    };
    try {
      const allowClients = [TEST_CLIENT_KEYS.publicKey];
      const first = await startAgentServer({ ...(await endpoints()), stateDir, allowClients });
      const epoch = (await health(first, first.publicKey)).dedupe_epoch;
      await first.close();
      const second = await startAgentServer({ ...(await endpoints()), stateDir });
      expect((await health(second, second.publicKey)).dedupe_epoch).toBe(epoch);
      await second.close();
      rmSync(join(stateDir, JOURNAL_FILE));
      const third = await startAgentServer({ ...(await endpoints()), stateDir });
      const after = await health(third, third.publicKey);
      expect(after.dedupe_epoch).toMatch(/^[0-9a-f]{16}$/);
      expect(after.dedupe_epoch).not.toBe(epoch);
      expect(after.capabilities).toContain('dedupe');
      await third.close();

      const memoryOnly = await startAgentServer({ ...(await endpoints()), insecure: true });
      const plain = await health(memoryOnly, null);
      expect(plain.capabilities).toBe(
        'custom_action,batch,output_query,status_stream,output_line_numbers,agent_details',
      );
      expect(plain).not.toHaveProperty('dedupe_epoch');
      await memoryOnly.close();
    } finally {
      await tmp.remove();
    }
  });
});
