/**
 * A result listener that throws must not break the dispatcher: against a real agent server,
 * every settled command still reaches the other listeners and the queue drains. The dispatcher
 * used to call its listeners bare, so the first throw cut short the announcement of the rest of
 * a group commit (and was reported as a queue failure).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ControlCommand } from '../../../shared/protocol';
import { CommandQueue } from '../../../main/core/queue/commandQueue';
import { Dispatcher } from '../../../main/core/queue/dispatcher';
import { Connection } from '../../../main/core/transport/connection';
import { PortAllocator } from '../../helpers/ports';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { waitUntil } from '../../helpers/wait';
import { openStore } from '../../unit/main/core/queue/queueTestKit';
import { curveOf } from '../transport/curveKit';
import { startNodeServer } from './clientKit';

const ports = new PortAllocator(25400, 25449);
const COUNT = 60;

let temp: TempDir;
const cleanups: (() => unknown)[] = [];

printServerLogsOnFailure();

beforeAll(async () => {
  temp = await createTempDir('descartes-result-listeners-');
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});
afterAll(async () => {
  await temp.remove();
});

function control(): ControlCommand {
  return {
    type: 'control_command',
    request_id: randomUUID(),
    agent_id: randomUUID(),
    command_type: 'get_status',
    payload: null,
  };
}

describe('Dispatcher result listeners', () => {
  it('a listener that throws on every result: the others still get every result and the queue drains', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const server = await startNodeServer(await ports.next(), await ports.next(), join(temp.path, 'srv'));
    cleanups.push(() => server.stop());
    const conn = new Connection({
      endpoint: server.bind,
      heartbeatIntervalMs: 60_000,
      curve: curveOf(server),
    });
    conn.start();
    cleanups.push(() => conn.close());
    await waitUntil(() => (conn.snapshot().state === 'online' ? true : undefined), {
      timeoutMs: 10_000,
      what: 'server online',
    });
    const queue = new CommandQueue(openStore(join(temp.path, 'queue')), { maxPending: COUNT });
    cleanups.push(() => {
      queue.close();
    });
    const queueFailures: unknown[] = [];
    const dispatcher = new Dispatcher({
      serverId: 's',
      queue,
      connection: conn,
      window: 8,
      onError: (error) => queueFailures.push(error),
    });
    cleanups.push(() => {
      dispatcher.dispose();
    });
    dispatcher.onResult(() => {
      throw new Error('a result listener bug');
    });
    const results = new Set<string>();
    dispatcher.onResult((r) => results.add(r.command.id));
    const ids: string[] = [];
    for (let i = 0; i < COUNT; i++) ids.push((await queue.enqueue('s', control())).id);
    await waitUntil(() => (results.size === COUNT ? true : undefined), {
      timeoutMs: 20_000,
      what: `${COUNT} results at the second listener`,
    });
    expect([...results].sort()).toEqual([...ids].sort());
    expect(ids.map((id) => queue.get(id)?.state)).toEqual(ids.map(() => 'failed')); // unknown agents
    expect(queueFailures).toEqual([]);
    expect(errors).toHaveBeenCalledWith('dispatcher for s: a result listener failed', expect.any(Error));
  });
});
