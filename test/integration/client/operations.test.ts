/**
 * Every AgentControlService operation through a ServerRegistry against real agent servers;
 * several servers at once with persisted profiles; and the Rust 1.0.0 fallback against a
 * scripted ROUTER that advertises no capabilities.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as zmq from 'zeromq';
import {
  type RequestMessage,
  type SpawnResponse,
  type StatusUpdate,
  type ZmqMessage,
} from '../../../shared/protocol';
import type { CommandResult } from '../../../shared/domain/result';
import { UnsupportedError } from '../../../main/core/services/agentControlService';
import type { ConsoleCore } from '../../../main/core/services/consoleCore';
import { AGENT_FIXTURE_DIR } from '../../helpers/agents';
import { PortAllocator } from '../../helpers/ports';
import { isProcessStopped } from '../../helpers/processes';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import type { ServerProcess } from '../../helpers/serverProcess';
import { sleep, waitUntil } from '../../helpers/wait';
import {
  nodeAgent,
  addPlainServer,
  openTestCore,
  readExecLog,
  securityOf,
  startNodeServer,
  startRustLikeRouter,
  useTestBed,
  waitServerOnline,
} from './clientKit';
import { runningReply } from '../../helpers/runningReply';

const ports = new PortAllocator(30300, 30599);

printServerLogsOnFailure();

const bed = useTestBed('descartes-client-ops-');
const core = bed.core;

function done<R>(result: CommandResult<R>): R {
  if (result.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(result)}`);
  return result.reply;
}

describe('every AgentControlService operation against a real server', () => {
  let server: ServerProcess;
  let c: ConsoleCore;
  let sid: string;
  let agent: string;
  let pid: number;

  beforeAll(async () => {
    server = await startNodeServer(await ports.next(), await ports.next(), bed.path('srv-ops'));
  });
  afterAll(async () => {
    await server.stop();
  });

  // One core for the whole block (afterEach would dispose it): kept out of `cores`.
  beforeAll(async () => {
    c = openTestCore({ dataDir: bed.path('ops') });
    sid = c.registry.add({
      name: 'ops',
      endpoint: server.bind,
      heartbeatIntervalMs: 500,
      security: securityOf(server),
    }).id;
    await waitServerOnline(c.registry, sid);
  });
  afterAll(async () => {
    await c.dispose();
  });

  it('healthCheck and the server status it feeds', async () => {
    const health = await c.service.healthCheck(sid);
    expect(health.healthy).toBe(true);
    const status = c.registry.status(sid);
    expect(status.state).toBe('online');
    expect(status.legacy).toBe(false);
    expect(status.capabilities).toEqual(
      expect.arrayContaining(['dedupe', 'batch', 'custom_action', 'output_query']),
    );
    expect(status.pubEndpoint).toBe(server.pub);
  });

  // The agent every later test acts on, and its pid once it says it is ready: each test can
  // run alone with -t.
  let spawned: SpawnResponse;
  beforeAll(async () => {
    spawned = done(
      await c.service.spawnAgent(sid, {
        name: 'ops-agent',
        model_backend: 'node',
        task: `${AGENT_FIXTURE_DIR}action-agent.js`,
      }),
    );
    agent = spawned.agent_info?.id ?? '';
    const ready = await waitUntil(async () => {
      const q = await c.service.queryAgentOutput(sid, agent, { filter: '^agent-ready pid=' });
      return q.lines[0];
    });
    pid = Number(ready.split('=')[1]);
  });

  it('spawnAgent, listAgents, getAgentStatus', async () => {
    expect(spawned.success).toBe(true);
    expect(agent).not.toBe('');
    const list = await c.service.listAgents(sid, { status: 'running' });
    expect(list.agents.map((a) => a.id)).toContain(agent);
    expect((await c.service.listAgents(sid, { status: 'paused' })).agents).toEqual([]);
    const status = await c.service.getAgentStatus(sid, agent);
    expect(status.data).toEqual({ status: 'running' });
    expect(pid).toBeGreaterThan(0);
  });

  it('writeAgentStdin, readAgentStdout (a cursor), queryAgentOutput (non-destructive)', async () => {
    expect(done(await c.service.writeAgentStdin(sid, agent, 'first\n')).success).toBe(true);
    await waitUntil(async () =>
      (await c.service.queryAgentOutput(sid, agent, { filter: 'stdin: first' })).lines.length > 0
        ? true
        : undefined,
    );
    const one = await c.service.readAgentStdout(sid, agent);
    expect(one.data).toMatchObject({ data: expect.stringMatching(/^agent-ready pid=/) as unknown });
    const two = await c.service.readAgentStdout(sid, agent);
    expect(two.data).toMatchObject({ data: 'stdin: first' });
    const all = await c.service.queryAgentOutput(sid, agent, { stream: 'stdout' });
    expect(all.lines).toEqual([expect.stringMatching(/^agent-ready/) as unknown, 'stdin: first']);
    expect(all.total_lines).toBe(2);
  });

  it('sendActionToAgent (built-in and forwarded), readAgentStderr', async () => {
    expect(done(await c.service.sendActionToAgent(sid, agent, 'echo', { x: [1, 2] })).data).toEqual({
      x: [1, 2],
    });
    const add = done(
      await c.service.sendActionToAgent(sid, agent, 'add', { a: 20, b: 22 }, { timeoutSecs: 5 }),
    );
    expect(add.data).toBe(42);
    const failed = done(await c.service.sendActionToAgent(sid, agent, 'fail'));
    expect(failed.success).toBe(false);
    expect(failed.error).toContain('deliberate failure from fixture');
    const err = await waitUntil(async () => {
      const r = await c.service.readAgentStderr(sid, agent);
      return (r.data as { data: string | null } | null)?.data ?? undefined;
    });
    expect(err).toMatch(/^action-received [0-9a-f-]{36} add$/);
  });

  it('streamAgentStatus sees pause/resume; pauseAgent/resumeAgent --force stop and continue the process', async () => {
    const session = c.registry.session(sid);
    // The SUB is live once a heartbeat arrives through it.
    await new Promise<void>((resolve) => {
      const stop = session.events.onStatus((u) => {
        if (u.update_type === 'heartbeat') {
          stop();
          resolve();
        }
      });
    });
    const updates: StatusUpdate[] = [];
    const unsubscribe = c.service.streamAgentStatus(sid, { onUpdate: (u) => updates.push(u) }, agent);
    try {
      expect(done(await c.service.pauseAgent(sid, agent, true)).status).toBe('paused');
      expect(isProcessStopped(pid)).toBe(true);
      expect(done(await c.service.resumeAgent(sid, agent, true)).status).toBe('running');
      expect(isProcessStopped(pid)).toBe(false);
      await waitUntil(() =>
        updates.some((u) => u.status === 'paused') && updates.some((u) => u.status === 'running')
          ? true
          : undefined,
      );
      expect(updates.every((u) => u.agent_id === agent && u.update_type !== 'heartbeat')).toBe(true);
    } finally {
      unsubscribe();
    }
  });

  it("tailAgentLogs delivers the agent's output as it is written", async () => {
    const chunks: string[] = [];
    const stop = c.service.tailAgentLogs(sid, agent, {
      onChunk: (ch) => chunks.push(Buffer.from(ch.data).toString('utf8')),
    });
    try {
      // The subscription reaches the publisher asynchronously: write until a line comes back.
      await waitUntil(
        async () => {
          await c.service.writeAgentStdin(sid, agent, 'tail-me\n');
          return chunks.join('').includes('stdin: tail-me') ? true : undefined;
        },
        { intervalMs: 200, what: 'a tailed log chunk' },
      );
    } finally {
      stop();
    }
  });

  it('newestLines: the newest stored lines of both streams, each with its stream (what a tail that lost chunks shows)', async () => {
    done(await c.service.sendActionToAgent(sid, agent, 'add', { a: 1, b: 2 }, { timeoutSecs: 5 }));
    await c.service.writeAgentStdin(sid, agent, 'newest-marker\n');
    const newest = await waitUntil(async () => {
      const t = await c.service.newestLines(sid, agent, 3);
      return t.lines.at(-1) === 'stdin: newest-marker' ? t : undefined;
    });
    expect(newest.lines).toHaveLength(3);
    expect(newest.streams).toHaveLength(3);
    const trace = newest.lines.findIndex((l) => /^action-received [0-9a-f-]{36} add$/.test(l));
    expect(newest.streams?.[trace]).toBe('stderr');
    expect(newest.streams?.at(-1)).toBe('stdout');
  });

  it('signalAgent and batchControl (fail-fast and not)', async () => {
    expect(done(await c.service.signalAgent(sid, agent, 'continue')).success).toBe(true);
    const second =
      done(await c.service.spawnAgent(sid, nodeAgent('action-agent.js', 'ops-b'))).agent_info?.id ?? '';
    const batch = done(await c.service.batchControl(sid, [agent, second], 'get_status'));
    expect(batch.results.map((r) => [r.agent_id, r.success])).toEqual([
      [agent, true],
      [second, true],
    ]);
    const missing = randomUUID();
    const ff = done(await c.service.batchControl(sid, [missing, agent], 'get_status', { failFast: true }));
    expect(ff.success).toBe(false);
    expect(ff.results.map((r) => r.agent_id)).toEqual([missing]);
    expect(done(await c.service.killAgent(sid, second)).success).toBe(true);
  });

  it('stopAgent ends an agent; queuedCommandCount is 0 once everything is delivered', async () => {
    expect(done(await c.service.stopAgent(sid, agent)).success).toBe(true);
    await waitUntil(async () => {
      const s = (await c.service.getAgentStatus(sid, agent)).data as { status: string };
      return s.status === 'running' ? undefined : s.status;
    });
    expect(c.service.queuedCommandCount(sid)).toBe(0);
    expect(c.service.queuedCommandCount()).toBe(0);
    // Every mutating command above went through the queue and was executed exactly once.
    const history = c.queue.history({ serverId: sid, limit: 1000 });
    const counts = new Map<string, number>();
    for (const e of readExecLog(join(bed.path('srv-ops'), 'exec.log')))
      counts.set(e.request_id, (counts.get(e.request_id) ?? 0) + 1);
    expect(history.length).toBeGreaterThan(10);
    expect(history.filter((h) => counts.get(h.id) !== 1)).toEqual([]);
  });

  it('queries fail fast against an offline server; commands queue and count', async () => {
    const offline = c.registry.add({
      name: 'nowhere',
      endpoint: `tcp://127.0.0.1:${await ports.next()}`,
      heartbeatIntervalMs: 200,
      security: { mode: 'plain' },
    }).id;
    await waitUntil(() => (c.registry.status(offline).state === 'offline' ? true : undefined));
    await expect(c.service.listAgents(offline)).rejects.toMatchObject({ code: 'offline' });
    const r = await c.service.stopAgent(offline, randomUUID());
    expect(r.status).toBe('queued');
    expect(c.service.queuedCommandCount(offline)).toBe(1);
    expect(c.service.queuedCommandCount()).toBe(1);
    c.registry.remove(offline, true);
    expect(c.service.queuedCommandCount()).toBe(0);
  });
});

describe('several servers at once', () => {
  it('routes each command to its server; profiles persist and reload', async () => {
    const s1 = await startNodeServer(await ports.next(), await ports.next(), bed.path('multi-1'));
    const s2 = await startNodeServer(await ports.next(), await ports.next(), bed.path('multi-2'));
    try {
      const c1 = openTestCore({ dataDir: bed.path('multi') });
      const ids: string[] = [];
      const agents: string[] = [];
      try {
        ids.push(c1.registry.add({ name: 'one', endpoint: s1.bind, security: securityOf(s1) }).id);
        ids.push(c1.registry.add({ name: 'two', endpoint: s2.bind, security: securityOf(s2) }).id);
        await Promise.all(ids.map((id) => waitServerOnline(c1.registry, id)));
        const results = await Promise.all(
          ids.map((id, i) => c1.service.spawnAgent(id, nodeAgent('action-agent.js', `multi-${i}`))),
        );
        for (const r of results) agents.push(done(r).agent_info?.id ?? '');
        expect((await c1.service.listAgents(ids[0] ?? '')).agents.map((a) => a.name)).toEqual(['multi-0']);
        expect((await c1.service.listAgents(ids[1] ?? '')).agents.map((a) => a.name)).toEqual(['multi-1']);
        // The wrong server does not know the other's agent.
        expect(done(await c1.service.stopAgent(ids[0] ?? '', agents[1] ?? '')).error).toBe(
          `Agent not found: ${agents[1] ?? ''}`,
        );
      } finally {
        await c1.dispose();
      }
      const c2 = core('multi');
      expect(c2.registry.list().map((p) => [p.id, p.name, p.endpoint])).toEqual([
        [ids[0], 'one', s1.bind],
        [ids[1], 'two', s2.bind],
      ]);
      await Promise.all(ids.map((id) => waitServerOnline(c2.registry, id)));
      const status = await c2.service.getAgentStatus(ids[1] ?? '', agents[1] ?? '');
      expect(status).toMatchObject({ success: true, agent_id: agents[1], data: { status: 'running' } });
      // What each server executed: its own spawn; the misrouted stop (refused) went to server
      // one; the status query after the reload went to server two.
      const log1 = readExecLog(join(bed.path('multi-1'), 'exec.log'));
      const log2 = readExecLog(join(bed.path('multi-2'), 'exec.log'));
      expect(log1.map((e) => [e.type, e.agent_id ?? null])).toEqual([
        ['spawn_request', null],
        ['control_command', agents[1]],
      ]);
      expect(log2.map((e) => [e.type, e.agent_id ?? null])).toEqual([
        ['spawn_request', null],
        ['control_command', agents[1]],
      ]);
      expect(log2[1]?.request_id).toBe(status.request_id);
    } finally {
      await Promise.all([s1.stop(), s2.stop()]);
    }
  });
});

describe('a Rust descartes 1.0.0 server (no capabilities)', () => {
  async function rustLike(
    port: number,
    received: RequestMessage[],
    answer: (req: RequestMessage) => ZmqMessage | null,
  ): Promise<zmq.Router> {
    const router = await startRustLikeRouter(port, received, answer);
    bed.adopt(router);
    return router;
  }

  const ok = (req: RequestMessage): ZmqMessage | null =>
    req.type === 'control_command' ? runningReply(req) : null;

  it('gets batches as single control_commands and custom actions as control_command{custom_action}', async () => {
    const port = await ports.next();
    const received: RequestMessage[] = [];
    await rustLike(port, received, ok);
    const c = core('rust-1');
    // Rust descartes 1.0.0 speaks plain ZMTP only.
    const sid = await addPlainServer(c, port);
    expect(c.registry.status(sid).legacy).toBe(true);
    const [a, b] = [randomUUID(), randomUUID()];
    const batch = done(await c.service.batchControl(sid, [a, b, a], 'pause'));
    expect(batch).toMatchObject({ type: 'batch_control_response', success: true, successful: 2, failed: 0 });
    const action = done(
      await c.service.sendActionToAgent(sid, a, 'deploy', { env: 'prod' }, { timeoutSecs: 7 }),
    );
    expect(action.success).toBe(true);
    const commands = received.filter((r) => r.type !== 'health_check_request');
    expect(commands.map((r) => r.type)).toEqual(['control_command', 'control_command', 'control_command']);
    expect(
      commands.map((r) => (r.type === 'control_command' ? [r.agent_id, r.command_type, r.payload] : null)),
    ).toEqual([
      [a, 'pause', null],
      [b, 'pause', null],
      [a, 'custom_action', { action: 'deploy', params: { env: 'prod' }, timeout_secs: 7 }],
    ]);
    expect(commands[2]?.request_id).toBe(action.request_id);
    await expect(async () => c.service.queryAgentOutput(sid, a)).rejects.toBeInstanceOf(UnsupportedError);
  });

  it('does not resend an unanswered command after a reconnect: its outcome stays unknown', async () => {
    const port = await ports.next();
    const first: RequestMessage[] = [];
    // Answers everything but `stop`.
    const router = await rustLike(port, first, (req) =>
      req.type === 'control_command' && req.command_type === 'stop' ? null : ok(req),
    );
    const c = core('rust-2');
    // Rust descartes 1.0.0 speaks plain ZMTP only.
    const sid = await addPlainServer(c, port);
    const agent = randomUUID();
    const pending = c.service.stopAgent(sid, agent);
    const stopId = await waitUntil(
      () => first.find((r) => r.type === 'control_command' && r.command_type === 'stop')?.request_id,
    );
    expect(c.queue.get(stopId)?.state).toBe('sending');

    // The server goes away and comes back (a restart): the client reconnects.
    router.close();
    await waitUntil(() => (c.registry.status(sid).state === 'offline' ? true : undefined), {
      timeoutMs: 10_000,
    });
    const second: RequestMessage[] = [];
    await rustLike(port, second, ok);
    await waitServerOnline(c.registry, sid);
    // A later command goes through, so the dispatcher has acted on the reconnect.
    expect(done(await c.service.pauseAgent(sid, agent)).success).toBe(true);
    await sleep(300);
    expect(second.map((r) => r.request_id)).not.toContain(stopId);
    expect(
      second
        .filter((r) => r.type !== 'health_check_request')
        .map((r) => r.type === 'control_command' && r.command_type),
    ).toEqual(['pause']);
    const stop = c.queue.get(stopId);
    expect(stop?.state).toBe('timed_out');
    expect(stop?.outcome).toMatchObject({ kind: 'unknown' });
    expect(stop?.attempts).toBe(1);
    const verdict = await pending;
    expect(verdict.status === 'unknown' || verdict.status === 'queued').toBe(true);
  });
});
