import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { actionAgentPid, spawnAgent } from '../../helpers/agentOps';
import { isPortFree, occupyPort, PortAllocator } from '../../helpers/ports';
import { isProcessRunning } from '../../helpers/processes';
import { RawClient } from '../../helpers/rawClient';
import { healthCheck, spawnRequest } from '../../helpers/requests';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import { spawnServerProcess, startServerProcess } from '../../helpers/serverProcess';
import type { ServerProcess } from '../../helpers/serverProcess';
import { createTempDir } from '../../helpers/tempDir';
import { waitUntil } from '../../helpers/wait';

const ports = new PortAllocator(23800, 23999);

/** Asserts the server failed the documented way: exit 1, one stderr line `descartes-server: …`, no ready line. */
async function expectStartupFailure(server: ServerProcess, ...mustContain: string[]): Promise<void> {
  const exit = await Promise.race([
    server.exited,
    new Promise<null>((resolve) =>
      setTimeout(() => {
        resolve(null);
      }, 20_000),
    ),
  ]);
  if (exit === null) {
    await server.kill();
    throw new Error('server did not exit within 20 s');
  }
  expect(exit.code).toBe(1);
  const stderr = server.stderr().trim();
  expect(stderr.split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^descartes-server: /);
  for (const text of mustContain) expect(stderr).toContain(text);
  expect(server.ready).toBeNull();
}

describe('agent server: process lifecycle', () => {
  printServerLogsOnFailure();

  it('SIGTERM: child agents are terminated (SIGKILL after 3 s for stubborn ones), exit 0, ports free', async () => {
    const server = await startServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      config: { backends: nodeBackends() },
    });
    expect(server.ready?.pid).toBe(server.pid);
    expect(server.ready?.bind).toBe(server.bind);
    expect(server.ready?.pub).toBe(server.pub);
    const client = RawClient.connect(server.bind, server.curve);
    let pids: number[];
    try {
      const polite = await spawnAgent(client, fixtureAgent('action-agent.js'));
      const stubborn = await spawnAgent(client, fixtureAgent('action-agent.js', { IGNORE_SIGTERM: '1' }));
      pids = [await actionAgentPid(client, polite.id), await actionAgentPid(client, stubborn.id)];
    } finally {
      await client.close();
    }
    for (const pid of pids) expect(isProcessRunning(pid)).toBe(true);
    const started = performance.now();
    const exit = await server.stop('SIGTERM', 15_000);
    const elapsed = performance.now() - started;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(elapsed).toBeLessThan(10_000);
    for (const pid of pids) {
      await waitUntil(() => (isProcessRunning(pid) ? undefined : true), {
        timeoutMs: 2000,
        what: `agent ${pid} gone`,
      });
    }
    expect(await isPortFree(server.port)).toBe(true);
    expect(await isPortFree(server.pubPort)).toBe(true);
  });

  it('SIGINT: exit 0', async () => {
    const server = await startServerProcess({ port: await ports.next(), pubPort: await ports.next() });
    expect(await server.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('--parent-pid: shuts down gracefully once that process is gone (an embedded server never outlives its console)', async () => {
    const { spawn } = await import('node:child_process');
    const parent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const parentPid = parent.pid;
    if (parentPid === undefined) throw new Error('could not start the stand-in parent');
    const server = await startServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      args: ['--parent-pid', String(parentPid)],
    });
    // Alive while the parent lives.
    await new Promise((r) => setTimeout(r, 1500));
    expect(server.exit).toBeNull();
    parent.kill('SIGKILL');
    const exit = await Promise.race([
      server.exited,
      new Promise<null>((resolve) => {
        setTimeout(() => {
          resolve(null);
        }, 10_000);
      }),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await isPortFree(server.port)).toBe(true);
  });

  it('--server-id sets the id in the ready line, health metadata and spawn replies', async () => {
    const server = await startServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      args: ['--server-id', 'test-server-7'],
    });
    const client = RawClient.connect(server.bind, server.curve);
    try {
      expect(server.ready?.server_id).toBe('test-server-7');
      const health = await client.request(healthCheck());
      expect(health.metadata?.server_id).toBe('test-server-7');
      const spawn = await client.request(spawnRequest({ model_backend: 'shell', task: 'true' }));
      expect(spawn.server_id).toBe('test-server-7');
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('--max-agents: a spawn beyond the limit is refused', async () => {
    const server = await startServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      args: ['--max-agents', '1'],
      config: { backends: nodeBackends() },
    });
    const client = RawClient.connect(server.bind, server.curve);
    try {
      await spawnAgent(client, fixtureAgent('action-agent.js'));
      const second = await client.request(spawnRequest(fixtureAgent('action-agent.js')));
      expect(second.success).toBe(false);
      expect(second.error).toMatch(/\S/);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('command port in use → exit 1 with one stderr line', async () => {
    const port = await ports.next();
    const holder = await occupyPort(port);
    try {
      const server = await spawnServerProcess({ port, pubPort: await ports.next() });
      await expectStartupFailure(server, `cannot bind tcp://127.0.0.1:${port}`, 'address already in use');
    } finally {
      await holder.release();
    }
  });

  it('PUB port in use → exit 1 with one stderr line', async () => {
    const pubPort = await ports.next();
    const holder = await occupyPort(pubPort);
    try {
      const server = await spawnServerProcess({ port: await ports.next(), pubPort });
      await expectStartupFailure(server, `tcp://127.0.0.1:${pubPort}`, 'address already in use');
    } finally {
      await holder.release();
    }
  });

  it('an unreadable --config → exit 1 with one stderr line naming the file', async () => {
    const dir = await createTempDir();
    try {
      const path = join(dir.path, 'broken.json');
      await writeFile(path, '{"backends": ');
      const server = await spawnServerProcess({
        port: await ports.next(),
        pubPort: await ports.next(),
        args: ['--config', path],
      });
      await expectStartupFailure(server, path);
    } finally {
      await dir.remove();
    }
  });

  it('an unknown option → exit 1 with one stderr line naming it', async () => {
    const server = await spawnServerProcess({
      port: await ports.next(),
      pubPort: await ports.next(),
      args: ['--frobnicate'],
    });
    await expectStartupFailure(server, '--frobnicate');
  });
});
