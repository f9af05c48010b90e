/**
 * The shared reply-timeout timer of `Connection` (main/core/transport/connection.ts): once the
 * last waiting request settles it is left armed but unref'd, instead of being cleared and made
 * again for the next request. These tests pin what that must not change: every request still
 * times out at its own deadline (fake clock, real sockets), and no timer holds the process open
 * while nothing waits, though one does while a request waits.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RequestMessage, ZmqMessage } from '../../../shared/protocol';
import type { Connection } from '../../../main/core/transport/connection';
import { RequestError } from '../../../main/core/transport/requestError';
import { healthReply } from '../../helpers/healthReply';
import { PortAllocator } from '../../helpers/ports';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import { sleep, waitUntil } from '../../helpers/wait';
import { startConnection, waitForState } from './connectionKit';

const ports = new PortAllocator(31700, 31799);
const open: { close(): unknown }[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const c of open.splice(0)) await c.close();
});

const control = (): RequestMessage => ({
  type: 'control_command',
  request_id: randomUUID(),
  agent_id: randomUUID(),
  command_type: 'get_status',
});

/** A server that answers health checks and every control command except those in `ignore`. */
async function server(ignore: Set<string>): Promise<Connection> {
  const port = await ports.next();
  open.push(
    await startScriptedRouter(port, async (req, send: (m: ZmqMessage) => Promise<void>) => {
      if (req.type === 'health_check_request') return send(healthReply(req));
      if (ignore.has(req.request_id)) return;
      await send({
        type: 'command_response',
        request_id: req.request_id,
        agent_id: randomUUID(),
        success: true,
      });
    }),
  );
  const c = startConnection(open, `tcp://127.0.0.1:${port}`, 60_000);
  await waitForState(c, 'online', 5000);
  return c;
}

/** Timers that keep the process alive (unref'd ones are not listed). */
const refTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/**
 * Sends a request that is answered (its timeout `answeredMs` leaves the shared timer armed),
 * then, on a fake clock, one the server never answers (timeout `waitingMs`).
 * @returns the connection, and the second request's outcome once settled ('timeout', 'reply')
 */
async function afterAnswered(
  answeredMs: number,
  waitingMs: number,
): Promise<{ c: Connection; outcome: () => string | null; done: Promise<void> }> {
  const ignore = new Set<string>();
  const c = await server(ignore);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  await c.request(control(), { timeoutMs: answeredMs });
  const unanswered = control();
  ignore.add(unanswered.request_id);
  let outcome: string | null = null;
  const done = c.request(unanswered, { timeoutMs: waitingMs }).then(
    () => {
      outcome = 'reply';
    },
    (e: unknown) => {
      outcome = e instanceof RequestError ? e.code : String(e);
    },
  );
  return { c, outcome: () => outcome, done };
}

describe('Connection reply timeouts with one shared timer', () => {
  it('times out a request at its own deadline after an answered one left the timer armed earlier', async () => {
    const { c, outcome, done } = await afterAnswered(300, 1_000);
    // The timer left over from the answered request goes off first and must time out nothing.
    await vi.advanceTimersByTimeAsync(400);
    expect(outcome()).toBeNull();
    expect(c.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(590);
    expect(outcome()).toBeNull();
    await vi.advanceTimersByTimeAsync(20);
    await done;
    expect(outcome()).toBe('timeout');
    expect(c.inFlight).toBe(0);
  });

  it('times out a shorter request sent after a longer answered one, at its own deadline', async () => {
    const { outcome, done } = await afterAnswered(10_000, 200);
    await vi.advanceTimersByTimeAsync(250);
    await done;
    expect(outcome()).toBe('timeout');
  });

  it('holds the process open while a request waits, and not once none does', async () => {
    const ignore = new Set<string>();
    const c = await server(ignore);
    await sleep(500); // timers of the setup (the first health check's, polls) are gone by then
    const before = refTimers();
    for (let i = 0; i < 20; i++) await c.request(control(), { timeoutMs: 5_000 });
    // Twenty answered requests leave nothing that keeps the process alive.
    expect(refTimers()).toBe(before);
    const unanswered = control();
    ignore.add(unanswered.request_id);
    const waiting = c.request(unanswered, { timeoutMs: 300 }).catch((e: unknown) => e);
    await waitUntil(() => (c.inFlight === 1 ? true : undefined), { what: 'the request in flight' });
    // The timer armed by the answered requests is the one that now waits for this request.
    expect(refTimers()).toBe(before + 1);
    expect(((await waiting) as RequestError).code).toBe('timeout');
    expect(refTimers()).toBe(before);
  });
});
