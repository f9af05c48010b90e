import { afterEach, describe, expect, it } from 'vitest';
import type { Uuid } from '../../../shared/protocol';
import { WATCHDOG_NAME } from '../../../server/watchdogCommand';
import { fixtureAgent, nodeBackends } from '../../helpers/agents';
import { spawnAgent, waitForStatus } from '../../helpers/agentOps';
import { PortAllocator } from '../../helpers/ports';
import { processesWithArgs, processesWithEnv } from '../../helpers/procScan';
import type { ProcEntry } from '../../helpers/procScan';
import { RawClient } from '../../helpers/rawClient';
import { controlCommand } from '../../helpers/requests';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import { startServerProcess } from '../../helpers/serverProcess';
import type { ServerProcess } from '../../helpers/serverProcess';
import { sleep, waitUntil } from '../../helpers/wait';

const ports = new PortAllocator(21500, 21599);

/** What the issue promises: no agent process of a dead server is left after this long. */
const DEADLINE_MS = 5000;

const clients: RawClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
printServerLogsOnFailure();

async function startServer(config: Record<string, unknown> = {}): Promise<{
  server: ServerProcess;
  client: RawClient;
}> {
  const server = await startServerProcess({
    port: await ports.next(),
    pubPort: await ports.next(),
    config: { backends: nodeBackends(), ...config },
  });
  const client = RawClient.connect(server.bind, server.curve);
  clients.push(client);
  return { server, client };
}

async function spawnShell(client: RawClient, task: string): Promise<Uuid> {
  return (await spawnAgent(client, { name: 'lifetime', model_backend: 'shell', task })).id;
}

/** Processes of these agents: every descendant inherits `DESCARTES_AGENT_ID`. */
function agentProcesses(ids: ReadonlySet<string>): ProcEntry[] {
  return processesWithEnv('DESCARTES_AGENT_ID', ids);
}

function watchdogsOf(serverPid: number): ProcEntry[] {
  return processesWithArgs(WATCHDOG_NAME, String(serverPid));
}

function describeLeft(left: ProcEntry[]): string {
  return left.map((e) => `${e.pid} (pgid ${e.pgid}, ${e.state}): ${e.argv.join(' ')}`).join('; ');
}

/**
 * Polls /proc every 5 ms until no process of the agents and no watchdog of the server is
 * left, and returns how long that took, in ms.
 * @throws Error listing what is left after `DEADLINE_MS` (plus slack for the poll itself)
 */
async function timeUntilAllGone(ids: ReadonlySet<string>, serverPid: number, since: number): Promise<number> {
  for (;;) {
    const left = [...agentProcesses(ids), ...watchdogsOf(serverPid)];
    const elapsed = Date.now() - since;
    if (left.length === 0) return elapsed;
    if (elapsed > DEADLINE_MS + 1000)
      throw new Error(`still running after ${elapsed} ms: ${describeLeft(left)}`);
    await sleep(5);
  }
}

/**
 * Starts agents of every kind that could outlive a server: one with background grandchildren,
 * one nested two shells deep, a Node agent, one stopped with SIGSTOP, and one that exited
 * leaving a background process in its group.
 */
async function spawnEveryKind(client: RawClient): Promise<Set<string>> {
  const ids = new Set<string>();
  ids.add(await spawnShell(client, 'sleep 100 & sleep 100'));
  ids.add(await spawnShell(client, 'sh -c "sleep 100 & wait" & wait'));
  ids.add((await spawnAgent(client, fixtureAgent('action-agent.js'))).id);
  const stopped = await spawnShell(client, 'sleep 100');
  ids.add(stopped);
  const pause = await client.request(controlCommand(stopped, 'pause', { force: true }));
  expect(pause.success, pause.error ?? '').toBe(true);
  const exited = await spawnShell(client, 'sleep 100 & exit 0');
  ids.add(exited);
  await waitForStatus(client, exited, 'completed');
  // Every agent is up (≥ 1 process each, the first two with their grandchildren).
  await waitUntil(
    () => {
      const procs = agentProcesses(ids);
      return procs.length >= 8 && new Set(procs.map((p) => p.pgid)).size === ids.size ? true : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 20, what: 'every agent process to run' },
  );
  return ids;
}

describe.skipIf(process.platform !== 'linux')('agents die with their server (Linux, real processes)', () => {
  it('kill -9 of the server: within 5 s no agent process and no watchdog is left', async () => {
    const { server, client } = await startServer();
    const ids = await spawnEveryKind(client);
    const serverPid = server.pid ?? 0;
    expect(watchdogsOf(serverPid)).toHaveLength(1);

    const killedAt = Date.now();
    process.kill(serverPid, 'SIGKILL');
    const ms = await timeUntilAllGone(ids, serverPid, killedAt);
    console.info(`kill -9 of the server → last agent process and watchdog gone after ${ms} ms`);
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect((await server.exited).signal).toBe('SIGKILL');
  });

  it('SIGTERM: agents (one ignoring SIGTERM, leftovers of an exited one) and the watchdog are gone', async () => {
    const { server, client } = await startServer({ shutdown_grace_ms: 500 });
    const ids = await spawnEveryKind(client);
    // The trap is inherited by the sleep: the whole group ignores SIGTERM until SIGKILL.
    ids.add(await spawnShell(client, 'trap "" TERM; sleep 100'));
    const serverPid = server.pid ?? 0;

    const stoppedAt = Date.now();
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const ms = await timeUntilAllGone(ids, serverPid, stoppedAt);
    expect(ms).toBeLessThan(DEADLINE_MS);
  });

  it('agents that exit leave no watchdog behind: one watchdog per server, gone with it', async () => {
    const { server, client } = await startServer();
    const serverPid = server.pid ?? 0;
    const ids = new Set<string>();
    for (let i = 0; i < 10; i++) ids.add(await spawnShell(client, `echo ${i}`));
    for (const id of ids) await waitForStatus(client, id, 'completed');
    expect(agentProcesses(ids)).toEqual([]);
    const watchdogs = watchdogsOf(serverPid);
    expect(watchdogs).toHaveLength(1);
    // Detached: its own session and group, so a signal to the server's group spares it.
    expect(watchdogs[0]?.pgid).toBe(watchdogs[0]?.pid);

    await server.stop('SIGTERM');
    await waitUntil(() => (watchdogsOf(serverPid).length === 0 ? true : undefined), {
      timeoutMs: DEADLINE_MS,
      intervalMs: 20,
      what: 'the watchdog to exit with its server',
    });
  });
});
