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
import { startServerProcess, type ExitInfo } from '../../helpers/serverProcess';
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

/**
 * Starts a server with the node backends and `--exec-log execLog` (fresh ports unless given),
 * runs `body` with a client connected to it, then closes the client and stops the server
 * whether `body` passed or not. Returns how the server ended.
 */
async function withServer(
  opts: { execLog: string; port?: number; pubPort?: number; stateDir?: string },
  body: (client: RawClient) => Promise<void>,
): Promise<ExitInfo> {
  const server = await startServerProcess({
    port: opts.port ?? (await ports.next()),
    pubPort: opts.pubPort ?? (await ports.next()),
    stateDir: opts.stateDir,
    execLog: opts.execLog,
    config: { backends: nodeBackends() },
  });
  const client = RawClient.connect(server.bind, server.curve);
  let exit: ExitInfo;
  try {
    await body(client);
  } finally {
    await client.close();
    exit = await server.stop();
  }
  return exit;
}

describe('agent server: idempotency by request_id', () => {
  printServerLogsOnFailure();
  const dir = useTempDir('descartes-dedupe-');

  it('a repeated request_id gets the same reply and runs once', async () => {
    const execLog = join(dir.path, 'exec.log');
    await withServer({ execLog }, async (client) => {
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
    });
  });

  it('a duplicate arriving while the first is still running is not run again', async () => {
    const execLog = join(dir.path, 'exec.log');
    await withServer({ execLog }, async (client) => {
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
    });
  });

  it('with --state-dir the reply cache survives a restart', async () => {
    const stateDir = join(dir.path, 'state');
    const port = await ports.next();
    const pubPort = await ports.next();
    const firstLog = join(dir.path, 'exec-1.log');
    const spawn = spawnRequest({ ...fixtureAgent('exit.js'), name: 'survivor' });
    let original: unknown;
    const firstExit = await withServer({ port, pubPort, stateDir, execLog: firstLog }, async (c1) => {
      const reply = await c1.request(spawn);
      expect(reply.success).toBe(true);
      original = reply;
    });
    expect(firstExit).toEqual({ code: 0, signal: null });
    expect((await readExecLog(firstLog)).filter((e) => e.request_id === spawn.request_id)).toHaveLength(1);

    const secondLog = join(dir.path, 'exec-2.log');
    await withServer({ port, pubPort, stateDir, execLog: secondLog }, async (c2) => {
      const replay = await c2.request(spawn);
      expect(replay).toEqual(original);
      const fresh = await c2.request(spawnRequest(fixtureAgent('exit.js')));
      expect(fresh.success).toBe(true);
      const log = await readExecLog(secondLog);
      expect(log.filter((e) => e.request_id === spawn.request_id)).toEqual([]);
      expect(log.filter((e) => e.request_id === fresh.request_id)).toHaveLength(1);
    });
  });
});
