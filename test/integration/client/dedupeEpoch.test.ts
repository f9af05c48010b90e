/**
 * Honest dedupe across a server restart, with a real agent server, queue and dispatcher: a
 * command in flight when the server is killed is resent (and answered from the journal) when
 * the journal survived, and reported as outcome unknown, never resent, when the server came
 * back without it (its dedupe epoch changed).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { QueuedCommand } from '../../../shared/domain/command';
import type { CustomActionRequest } from '../../../shared/protocol';
import { CommandQueue } from '../../../main/core/queue/commandQueue';
import { Dispatcher } from '../../../main/core/queue/dispatcher';
import { CACHE_LOST_REASON } from '../../../main/core/queue/resendPolicy';
import { Connection } from '../../../main/core/transport/connection';
import { JOURNAL_FILE } from '../../../server/dedupeJournal';
import { OUTCOME_UNKNOWN } from '../../../server/requestHandler';
import { PortAllocator } from '../../helpers/ports';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import type { ServerProcess } from '../../helpers/serverProcess';
import { useCleanups } from '../../helpers/useCleanups';
import { useTempDir } from '../../helpers/useTempDir';
import { sleep, waitUntil } from '../../helpers/wait';
import { openStore } from '../../unit/main/core/queue/queueTestKit';
import { curveOf } from '../transport/curveKit';
import { execCounts, startNodeServer } from './clientKit';

const ports = new PortAllocator(24800, 24899);

const temp = useTempDir('descartes-dedupe-epoch-', 'file');
const cleanups = useCleanups();

printServerLogsOnFailure();

/**
 * Queues a custom action the agent never answers (so it is on the wire when the server is
 * killed), kills the server, optionally removes its journal, restarts it on the same port and
 * state dir, and returns the command once the dispatcher has dealt with it.
 */
async function killDuringCommand(name: string, loseJournal: boolean) {
  const dir = join(temp.path, name);
  const port = await ports.next();
  const pubPort = await ports.next();
  let server: ServerProcess = await startNodeServer(port, pubPort, dir);
  cleanups.push(() => server.stop());
  const conn = new Connection({ endpoint: server.bind, heartbeatIntervalMs: 200, curve: curveOf(server) });
  conn.start();
  cleanups.push(() => conn.close());
  await waitUntil(() => (conn.snapshot().state === 'online' ? true : undefined), {
    timeoutMs: 10_000,
    what: 'first server online',
  });
  const epochBefore = conn.snapshot().info?.metadata.dedupe_epoch;
  expect(epochBefore).toMatch(/^[0-9a-f]{16}$/);
  const spawned = await conn.request({
    type: 'spawn_request',
    request_id: randomUUID(),
    config: { name: 'silent', model_backend: 'shell', task: 'sleep 30', environment: {} },
  });
  const agentId = spawned.agent_info?.id ?? '';
  expect(agentId).not.toBe('');

  const queue = new CommandQueue(openStore(join(dir, 'console')));
  cleanups.push(() => {
    queue.close();
  });
  const dispatcher = new Dispatcher({ serverId: 's', queue, connection: conn, defaultTimeoutMs: 60_000 });
  cleanups.push(() => {
    dispatcher.dispose();
  });
  const action: CustomActionRequest = {
    type: 'custom_action_request',
    request_id: randomUUID(),
    agent_id: agentId,
    action: 'never_answered',
    params: {},
    timeout_secs: 25,
  };
  const command = await queue.enqueue('s', action);
  const execLog = join(dir, 'exec.log');
  await waitUntil(() => (execCounts(execLog).get(command.id) === 1 ? true : undefined), {
    timeoutMs: 10_000,
    what: 'the action reached the server',
  });

  await server.kill();
  if (loseJournal) rmSync(join(server.stateDir, JOURNAL_FILE));
  server = await startNodeServer(port, pubPort, dir);
  const ended = await waitUntil(
    () => {
      const c = queue.get(command.id);
      const epoch = conn.snapshot().info?.metadata.dedupe_epoch;
      const done = c !== null && (c.state === 'failed' || (c.state === 'timed_out' && epoch !== epochBefore));
      return done && conn.snapshot().state === 'online' ? c : undefined;
    },
    { timeoutMs: 30_000, what: 'the command settled after the restart' },
  );
  // Heartbeats keep coming: give a wrong resend the time to happen before counting.
  await sleep(1000);
  return {
    command: queue.get(command.id) ?? ended,
    ran: execCounts(execLog).get(command.id) ?? 0,
    epochBefore,
    epochAfter: conn.snapshot().info?.metadata.dedupe_epoch,
  };
}

describe('dedupe epoch: resend only to a server that still remembers', () => {
  it('journal kept: same epoch, the command is resent and answered from the journal, never run twice', async () => {
    const r = await killDuringCommand('kept', false);
    expect(r.epochAfter).toBe(r.epochBefore);
    expect(r.command.state).toBe('failed');
    expect(r.command.attempts).toBe(2);
    expect(r.command.outcome).toMatchObject({ kind: 'reply', success: false, error: OUTCOME_UNKNOWN });
    expect(r.ran).toBe(1);
  });

  it('journal lost: a new epoch, the command stays outcome unknown and is not resent', async () => {
    const r = await killDuringCommand('lost', true);
    expect(r.epochAfter).toMatch(/^[0-9a-f]{16}$/);
    expect(r.epochAfter).not.toBe(r.epochBefore);
    const c: QueuedCommand = r.command;
    expect(c.state).toBe('timed_out');
    expect(c.attempts).toBe(1);
    expect(c.outcome).toEqual({ kind: 'unknown', reason: CACHE_LOST_REASON, resend: false });
    expect(r.ran).toBe(1);
  });
});
