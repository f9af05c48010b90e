/**
 * The Dispatcher's window and order on the wire, against a real dedupe server (our agent
 * server: marks written behind, slots refilled per reply) and a Rust-like ROUTER without
 * capabilities (each mark committed before its command leaves). A counting wrapper around the
 * real Connection sees every request as it goes out. Also: a result listener that throws
 * changes nothing for the others (the dispatcher used to call its listeners bare, so the first
 * throw cut short the announcement of the rest of a group commit).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as zmq from 'zeromq';
import type { ControlCommand, RequestMessage, ZmqMessage } from '../../../shared/protocol';
import { CommandQueue } from '../../../main/core/queue/commandQueue';
import { Dispatcher, type DispatchConnection } from '../../../main/core/queue/dispatcher';
import type { SqliteCommandStore } from '../../../main/core/queue/sqliteCommandStore';
import { Connection } from '../../../main/core/transport/connection';
import { PortAllocator } from '../../helpers/ports';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import type { ServerProcess } from '../../helpers/serverProcess';
import { useCleanups } from '../../helpers/useCleanups';
import { useTempDir } from '../../helpers/useTempDir';
import { waitUntil } from '../../helpers/wait';
import { openStore } from '../../unit/main/core/queue/queueTestKit';
import { startNodeServer, startRustLikeRouter } from './clientKit';
import type { CurveClient } from '../../../main/core/transport/curveClient';
import { curveOf } from '../transport/curveKit';
import { runningReply } from '../../helpers/runningReply';

const ports = new PortAllocator(31200, 31299);
const WINDOW = 4;
const COUNT = 300;

const temp = useTempDir('descartes-dispatch-window-', 'file');
const cleanups = useCleanups();

printServerLogsOnFailure();

afterEach(() => {
  vi.restoreAllMocks();
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

/** The real connection, counting requests on the wire and recording the order they leave in. */
function counted(conn: Connection): { wire: DispatchConnection; sent: string[]; maxInFlight: () => number } {
  const sent: string[] = [];
  let inFlight = 0;
  let max = 0;
  const wire: DispatchConnection = {
    snapshot: () => conn.snapshot(),
    onChange: (l) => conn.onChange(l),
    onLateReply: (l) => conn.onLateReply(l),
    request: (msg, options) => {
      sent.push(msg.request_id);
      max = Math.max(max, ++inFlight);
      const reply = conn.request(msg, options);
      void reply.then(
        () => inFlight--,
        () => inFlight--,
      );
      return reply;
    },
  };
  return { wire, sent, maxInFlight: () => max };
}

async function drain(
  endpoint: string,
  dir: string,
  onStore?: (store: SqliteCommandStore) => void,
  curve: CurveClient | null = null,
  firstListener?: () => void,
): Promise<{ ids: string[]; sent: string[]; maxInFlight: number; states: string[]; dedupe: boolean }> {
  const conn = new Connection({ endpoint, heartbeatIntervalMs: 60_000, curve });
  conn.start();
  cleanups.push(() => conn.close());
  await waitUntil(() => (conn.snapshot().state === 'online' ? true : undefined), {
    timeoutMs: 10_000,
    intervalMs: 20,
    what: `${endpoint} online`,
  });
  const store = openStore(join(temp.path, dir));
  onStore?.(store);
  const queue = new CommandQueue(store, { maxPending: COUNT });
  cleanups.push(() => {
    queue.close();
  });
  const ids: string[] = [];
  for (let i = 0; i < COUNT; i++) ids.push((await queue.enqueue('s', control())).id);
  const { wire, sent, maxInFlight } = counted(conn);
  const states: string[] = [];
  let settled = 0;
  await new Promise<void>((resolve) => {
    const dispatcher = new Dispatcher({ serverId: 's', queue, connection: wire, window: WINDOW });
    cleanups.push(() => {
      dispatcher.dispose();
    });
    if (firstListener) dispatcher.onResult(firstListener);
    dispatcher.onResult((r) => {
      states.push(r.command.state);
      if (++settled === COUNT) resolve();
    });
  });
  return {
    ids,
    sent,
    maxInFlight: maxInFlight(),
    states,
    dedupe: conn.snapshot().info?.capabilities.has('dedupe') ?? false,
  };
}

describe('Dispatcher window and order', () => {
  it('a dedupe server: never more than the window on the wire, every command once, in issue order', async () => {
    const server: ServerProcess = await startNodeServer(
      await ports.next(),
      await ports.next(),
      join(temp.path, 'srv'),
    );
    cleanups.push(() => server.stop());
    const run = await drain(server.bind, 'dedupe', undefined, curveOf(server));
    expect(run.dedupe).toBe(true);
    expect(run.maxInFlight).toBeLessThanOrEqual(WINDOW);
    expect(run.maxInFlight).toBe(WINDOW); // the window is used: requests are pipelined
    expect(run.sent).toEqual(run.ids);
    // Unknown agents: every command is answered (and settled) with the server's refusal.
    expect(run.states.every((s) => s === 'failed')).toBe(true);
  });

  it('a server without dedupe: each command is marked sending on disk before it leaves', async () => {
    const port = await ports.next();
    let store: SqliteCommandStore | null = null;
    const onDiskWhenReceived: string[] = [];
    const received: RequestMessage[] = [];
    const answer = (req: RequestMessage): ZmqMessage | null => {
      if (req.type !== 'control_command') return null;
      onDiskWhenReceived.push(store?.get(req.request_id)?.state ?? 'missing');
      return runningReply(req);
    };
    const router: zmq.Router = await startRustLikeRouter(port, received, answer);
    cleanups.push(() => {
      router.close();
    });
    const run = await drain(`tcp://127.0.0.1:${port}`, 'legacy', (s) => {
      store = s;
    });
    expect(run.dedupe).toBe(false);
    expect(run.maxInFlight).toBeLessThanOrEqual(WINDOW);
    expect(run.sent).toEqual(run.ids);
    expect(received.filter((r) => r.type === 'control_command').map((r) => r.request_id)).toEqual(run.ids);
    expect(onDiskWhenReceived).toEqual(run.ids.map(() => 'sending'));
    expect(run.states.every((s) => s === 'succeeded')).toBe(true);
  });

  it('a result listener that throws on every result: the others still get every result, in issue order', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const server = await startNodeServer(
      await ports.next(),
      await ports.next(),
      join(temp.path, 'srv-listeners'),
    );
    cleanups.push(() => server.stop());
    const run = await drain(server.bind, 'listeners', undefined, curveOf(server), () => {
      throw new Error('a result listener bug');
    });
    expect(run.sent).toEqual(run.ids);
    expect(run.states).toEqual(run.ids.map(() => 'failed')); // unknown agents: refused, settled
    expect(errors).toHaveBeenCalledWith('dispatcher for s: a result listener failed', expect.any(Error));
    expect(errors).not.toHaveBeenCalledWith('dispatcher for s: the queue failed', expect.anything());
  });
});
