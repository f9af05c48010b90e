/**
 * The queue's delivery guarantees against the real agent server, checked against the server's
 * exec log (one line per executed mutating request): order and exactly-once across a server
 * outage and a server crash mid-drain, the per-server limit, expiry, and unknown outcomes
 * resolved by resending the same request_id.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueuedCommand } from '../../../shared/domain/command';
import type { CommandResult } from '../../../shared/domain/result';
import { QueueFullError } from '../../../main/core/queue/queueErrors';
import type { ConsoleCore } from '../../../main/core/services/consoleCore';
import { AGENT_FIXTURE_DIR } from '../../helpers/agents';
import { PortAllocator } from '../../helpers/ports';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import type { ServerProcess } from '../../helpers/serverProcess';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { sleep, waitUntil } from '../../helpers/wait';
import {
  execCounts,
  nodeAgent,
  nodeServerSecurity,
  openTestCore,
  readExecLog,
  securityOf,
  startNodeServer,
  waitServerOnline,
} from './clientKit';

const ports = new PortAllocator(30600, 30899);
/** The server's reply to a repeat of a request it began but never answered before it died. */
const SERVER_OUTCOME_UNKNOWN = 'outcome unknown: the server stopped while running this request';

let temp: TempDir;
const cores: ConsoleCore[] = [];
const servers: ServerProcess[] = [];

printServerLogsOnFailure();

beforeAll(async () => {
  temp = await createTempDir('descartes-client-delivery-');
});
afterEach(async () => {
  for (const c of cores.splice(0)) await c.dispose();
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(async () => {
  await temp.remove();
});

function core(
  name: string,
  options: { maxPending?: number; requestTimeoutMs?: number; window?: number } = {},
): ConsoleCore {
  const c = openTestCore({ dataDir: join(temp.path, name), ...options });
  cores.push(c);
  return c;
}

async function server(port: number, pubPort: number, dir: string): Promise<ServerProcess> {
  const s = await startNodeServer(port, pubPort, join(temp.path, dir));
  servers.push(s);
  return s;
}

/**
 * Adds profile `name` for the node server a test starts later (see {@link server}) on `port`
 * with its state in `dir`, heartbeat 200 ms; returns its id.
 */
function addLaterServer(c: ConsoleCore, name: string, port: number, dir: string): string {
  return c.registry.add({
    name,
    endpoint: `tcp://127.0.0.1:${port}`,
    heartbeatIntervalMs: 200,
    security: nodeServerSecurity(join(temp.path, dir)),
  }).id;
}

function reply<R>(result: CommandResult<R>): R {
  if (result.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(result)}`);
  return result.reply;
}

function waitSettled(c: ConsoleCore, serverId: string, timeoutMs = 30_000): Promise<true> {
  return waitUntil(() => (c.queue.pendingCount(serverId) === 0 ? true : undefined), {
    timeoutMs,
    intervalMs: 20,
    what: 'the queue to drain',
  });
}

describe('server down → commands queue → server back', () => {
  it('a stopped (SIGSTOP) server gets the queued stdin writes in issue order, each once', async () => {
    const srv = await server(await ports.next(), await ports.next(), 'sigstop');
    const c = core('sigstop');
    const sid = c.registry.add({
      name: 's',
      endpoint: srv.bind,
      heartbeatIntervalMs: 200,
      security: securityOf(srv),
    }).id;
    await waitServerOnline(c.registry, sid);
    const agent = reply(await c.service.spawnAgent(sid, nodeAgent('action-agent.js'))).agent_info?.id ?? '';

    process.kill(srv.pid ?? 0, 'SIGSTOP');
    try {
      await waitUntil(() => (c.registry.status(sid).state === 'offline' ? true : undefined), {
        timeoutMs: 10_000,
      });
      const issued: QueuedCommand[] = [];
      for (let i = 0; i < 100; i++) {
        const r = await c.service.writeAgentStdin(sid, agent, `seq-${i}\n`);
        expect(r.status).toBe('queued');
        issued.push(r.command);
      }
      expect(c.service.queuedCommandCount(sid)).toBe(100);
    } finally {
      process.kill(srv.pid ?? 0, 'SIGCONT');
    }
    await waitSettled(c, sid);
    const lines = await waitUntil(async () => {
      const q = await c.service.queryAgentOutput(sid, agent, { filter: '^stdin: seq-', limit: 1000 });
      return q.lines.length >= 100 ? q.lines : undefined;
    });
    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => `stdin: seq-${i}`));
    const writes = readExecLog(join(temp.path, 'sigstop', 'exec.log')).filter(
      (e) => e.command_type === 'write_stdin',
    );
    expect(writes).toHaveLength(100);
    expect(new Set(writes.map((e) => e.request_id)).size).toBe(100);
    const history = c.queue
      .history({ serverId: sid, limit: 1000 })
      .filter((h) => h.request.type === 'control_command');
    expect(history.every((h) => h.state === 'succeeded' && h.attempts === 1)).toBe(true);
  });

  it('a server that was not running takes the queued spawns in issue order, each once, after it starts', async () => {
    const port = await ports.next();
    const pubPort = await ports.next();
    const c = core('restart');
    const sid = addLaterServer(c, 'r', port, 'restart');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await c.service.spawnAgent(sid, nodeAgent('exit.js', `late-${i}`));
      expect(r.status).toBe('queued');
      ids.push(r.command.id);
    }
    await server(port, pubPort, 'restart');
    await waitSettled(c, sid);
    expect(readExecLog(join(temp.path, 'restart', 'exec.log')).map((e) => e.request_id)).toEqual(ids);
    expect(ids.map((id) => c.queue.get(id)?.state)).toEqual(ids.map(() => 'succeeded'));
  });
});

describe('server killed (SIGKILL) mid-drain and restarted on the same port', () => {
  it('loses nothing and runs nothing twice', async () => {
    const port = await ports.next();
    const pubPort = await ports.next();
    const c = core('middrain', { window: 32, maxPending: 10_000 });
    const sid = addLaterServer(c, 'm', port, 'middrain');
    const ids: string[] = [];
    // No agent needed: the server executes (and logs) a control command for an unknown agent too.
    const agent = randomUUID();
    for (let i = 0; i < 1500; i++) {
      const r = await c.service.controlAgent(sid, agent, 'get_status');
      ids.push(r.command.id);
    }
    let settled = 0;
    const stop = c.registry.session(sid).dispatcher.onResult(() => settled++);
    const first = await server(port, pubPort, 'middrain');
    await waitUntil(() => (settled >= 300 ? true : undefined), { timeoutMs: 30_000, intervalMs: 1 });
    await first.kill();
    const pendingAtKill = c.queue.pendingCount(sid);
    expect(pendingAtKill, 'the kill should land mid-drain').toBeGreaterThan(0);
    await server(port, pubPort, 'middrain');
    await waitSettled(c, sid, 60_000);
    stop();

    const counts = execCounts(join(temp.path, 'middrain', 'exec.log'));
    const commands = ids.map((id) => c.queue.get(id));
    const problems = commands.filter((cmd) => {
      if (cmd === null) return true;
      const n = counts.get(cmd.id) ?? 0;
      if (n === 1) return !(cmd.state === 'succeeded' || cmd.state === 'failed');
      // Begun but killed before its exec-log line: the restarted server says so, and does not run it again.
      return !(n === 0 && cmd.outcome?.kind === 'reply' && cmd.outcome.error === SERVER_OUTCOME_UNKNOWN);
    });
    expect(problems).toEqual([]);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect([...counts.keys()].every((id) => ids.includes(id))).toBe(true);
    // Each command settled once: one history entry each.
    const history = c.queue.history({ serverId: sid, limit: 10_000 });
    expect(history.map((h) => h.id).sort()).toEqual([...ids].sort());
  }, 120_000);
});

describe('limits, expiry and unknown outcomes', () => {
  it('refuses the command past maxPending with a clear error', async () => {
    const c = core('full', { maxPending: 5 });
    const sid = c.registry.add({
      name: 'f',
      endpoint: `tcp://127.0.0.1:${await ports.next()}`,
      security: { mode: 'plain' },
    }).id;
    for (let i = 0; i < 5; i++) expect((await c.service.stopAgent(sid, randomUUID())).status).toBe('queued');
    const err = await c.service.stopAgent(sid, randomUUID()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as Error).message).toBe(
      `The queue for server "${sid}" is full: 5 commands are pending and the limit is 5. The command was not queued. ` +
        'Wait until the server works through its queue (is it online?), cancel queued commands you no longer need, or raise the maxPending setting.',
    );
    expect(c.service.queuedCommandCount(sid)).toBe(5);
  });

  it('never sends a command whose expiry passed while the server was offline', async () => {
    const port = await ports.next();
    const pubPort = await ports.next();
    const c = core('expiry');
    const sid = addLaterServer(c, 'e', port, 'expiry');
    const doomed = await c.service.spawnAgent(sid, nodeAgent('exit.js', 'doomed'), {
      expiresAt: Date.now() + 300,
    });
    const later = await c.service.spawnAgent(sid, nodeAgent('exit.js', 'later'));
    expect([doomed.status, later.status]).toEqual(['queued', 'queued']);
    await sleep(500);
    await server(port, pubPort, 'expiry');
    await waitSettled(c, sid);
    expect(c.queue.get(later.command.id)?.state).toBe('succeeded');
    const expired = c.queue.get(doomed.command.id);
    expect(expired?.state).toBe('expired');
    expect(expired?.attempts).toBe(0);
    expect(expired?.sentAt).toBeNull();
    expect(readExecLog(join(temp.path, 'expiry', 'exec.log')).map((e) => e.request_id)).toEqual([
      later.command.id,
    ]);
  });

  it('resolves an unknown outcome after a timeout by resending the same request_id; it ran once', async () => {
    const srv = await server(await ports.next(), await ports.next(), 'unknown');
    const c = core('unknown', { requestTimeoutMs: 1500 });
    const sid = c.registry.add({
      name: 'u',
      endpoint: srv.bind,
      heartbeatIntervalMs: 500,
      security: securityOf(srv),
    }).id;
    await waitServerOnline(c.registry, sid);
    const agent =
      reply(
        await c.service.spawnAgent(sid, {
          name: 'slow',
          model_backend: 'node',
          task: `${AGENT_FIXTURE_DIR}action-agent.js`,
        }),
      ).agent_info?.id ?? '';
    const first = await c.service.sendActionToAgent(sid, agent, 'slow', { ms: 2500 });
    expect(first.status).toBe('unknown');
    const id = first.command.id;
    const final = await waitUntil(
      () => {
        const cmd = c.queue.get(id);
        return cmd?.state === 'succeeded' || cmd?.state === 'failed' ? cmd : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(final.state).toBe('succeeded');
    expect(final.outcome).toMatchObject({ kind: 'reply', success: true });
    expect(final.attempts).toBeGreaterThanOrEqual(2);
    expect(execCounts(join(temp.path, 'unknown', 'exec.log')).get(id)).toBe(1);
    // The agent was asked once.
    const trace = await c.service.queryAgentOutput(sid, agent, {
      stream: 'stderr',
      filter: `^action-received ${id} `,
    });
    expect(trace.total_lines).toBe(1);
  });

  it('a command on the wire when the owner closes stays sending and is resent (same id) by the next owner', async () => {
    const srv = await server(await ports.next(), await ports.next(), 'handover');
    const a = openTestCore({ dataDir: join(temp.path, 'handover') });
    let id: string;
    try {
      const sid = a.registry.add({ name: 'h', endpoint: srv.bind, security: securityOf(srv) }).id;
      await waitServerOnline(a.registry, sid);
      const agent = reply(await a.service.spawnAgent(sid, nodeAgent('action-agent.js'))).agent_info?.id ?? '';
      void a.service.sendActionToAgent(sid, agent, 'slow', { ms: 1500 });
      const cmd = await waitUntil(() => a.queue.list(sid, ['sending'])[0]);
      id = cmd.id;
    } finally {
      await a.dispose();
    }
    const b = core('handover');
    // Before the new owner is online: still on the wire as far as anyone knows.
    const left = b.queue.get(id);
    expect([left?.state, left?.attempts]).toEqual(['sending', 1]);
    const sid = b.registry.list()[0]?.id ?? '';
    await waitSettled(b, sid);
    const done = b.queue.get(id);
    expect(done?.state).toBe('succeeded');
    expect(done?.attempts).toBe(2);
    expect(execCounts(join(temp.path, 'handover', 'exec.log')).get(id)).toBe(1);
  });
});
