import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { spawnAgent, waitForOutput } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { RawClient } from '../../helpers/rawClient';
import {
  controlCommand,
  customAction,
  healthCheck,
  listAgents,
  newRequestId,
  spawnRequest,
} from '../../helpers/requests';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import { startServerProcess } from '../../helpers/serverProcess';
import { useTempDir } from '../../helpers/useTempDir';

const ports = new PortAllocator(23200, 23399);

interface ExecLogEntry {
  request_id: string;
  type: string;
}

/** The entries of an `--exec-log` file (one JSON line per executed mutating request). */
async function readExecLog(path: string): Promise<ExecLogEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ExecLogEntry);
}

describe('agent server: idempotency by request_id', () => {
  printServerLogsOnFailure();
  const dir = useTempDir('descartes-dedupe-');

  it('a repeated request_id gets the same reply and runs once', async () => {
    const execLog = join(dir.path, 'exec.log');
    const server = await startServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      execLog,
      config: { backends: nodeBackends() },
    });
    const client = RawClient.connect(server.bind, server.curve);
    try {
      const name = `dedupe-${newRequestId()}`;
      const spawn = spawnRequest({ ...fixtureAgent('action-agent.js'), name });
      const first = await client.request(spawn);
      expect(first.success).toBe(true);
      const second = await client.request(spawn);
      expect(second).toEqual(first);
      const listed = await client.request(listAgents());
      expect(listed.agents.filter((a) => a.name === name)).toHaveLength(1);

      const agentId = first.agent_info?.id ?? '';
      const write = controlCommand(agentId, 'write_stdin', { data: 'once\n' });
      const w1 = await client.request(write);
      const w2 = await client.request(write);
      expect(w2).toEqual(w1);
      await waitForOutput(client, agentId, (l) => l.includes('stdin: once'));
      await new Promise((r) => setTimeout(r, 300));
      const lines = await waitForOutput(client, agentId, () => true);
      expect(lines.filter((l) => l === 'stdin: once')).toHaveLength(1);

      const log = await readExecLog(execLog);
      const spawnEntries = log.filter((e) => e.request_id === spawn.request_id);
      expect(spawnEntries).toHaveLength(1);
      expect(spawnEntries[0]?.type).toBe('spawn_request');
      expect(log.filter((e) => e.request_id === write.request_id)).toHaveLength(1);
      const health = await client.request(healthCheck());
      expect(Number(health.metadata?.['stat.replays'])).toBeGreaterThanOrEqual(2);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('a duplicate arriving while the first is still running is not run again', async () => {
    const execLog = join(dir.path, 'exec.log');
    const server = await startServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      execLog,
      config: { backends: nodeBackends() },
    });
    const client = RawClient.connect(server.bind, server.curve);
    try {
      const agent = await spawnAgent(client, fixtureAgent('action-agent.js'));
      const slow = customAction(agent.id, 'slow', { ms: 1500 }, { timeoutSecs: 10 });
      const replies = Promise.all([client.reply(slow.request_id), client.reply(slow.request_id)]);
      await client.send(slow);
      await new Promise((r) => setTimeout(r, 200));
      await client.send(slow);
      const [r1, r2] = await replies;
      expect(r1).toMatchObject({ type: 'command_response', success: true, data: 'slow-done' });
      expect(r2).toEqual(r1);
      const stderr = await waitForOutput(client, agent.id, (l) => l.length > 0, { stream: 'stderr' });
      expect(stderr.filter((l) => l.startsWith(`action-received ${slow.request_id}`))).toHaveLength(1);
      const log = await readExecLog(execLog);
      expect(log.filter((e) => e.request_id === slow.request_id)).toHaveLength(1);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('with --state-dir the reply cache survives a restart', async () => {
    const stateDir = join(dir.path, 'state');
    const port = await ports.next();
    const pubPort = await ports.next();
    const firstLog = join(dir.path, 'exec-1.log');
    const first = await startServerProcess({
      port,
      pubPort,
      stateDir,
      execLog: firstLog,
      config: { backends: nodeBackends() },
    });
    const spawn = spawnRequest({ ...fixtureAgent('exit.js'), name: 'survivor' });
    let original;
    const c1 = RawClient.connect(first.bind, first.curve);
    try {
      original = await c1.request(spawn);
      expect(original.success).toBe(true);
    } finally {
      await c1.close();
    }
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    expect((await readExecLog(firstLog)).filter((e) => e.request_id === spawn.request_id)).toHaveLength(1);

    const secondLog = join(dir.path, 'exec-2.log');
    const second = await startServerProcess({
      port,
      pubPort,
      stateDir,
      execLog: secondLog,
      config: { backends: nodeBackends() },
    });
    const c2 = RawClient.connect(second.bind, second.curve);
    try {
      const replay = await c2.request(spawn);
      expect(replay).toEqual(original);
      const fresh = await c2.request(spawnRequest(fixtureAgent('exit.js')));
      expect(fresh.success).toBe(true);
      const log = await readExecLog(secondLog);
      expect(log.filter((e) => e.request_id === spawn.request_id)).toEqual([]);
      expect(log.filter((e) => e.request_id === fresh.request_id)).toHaveLength(1);
    } finally {
      await c2.close();
      await second.stop();
    }
  });
});
