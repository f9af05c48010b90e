import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type * as zmq from 'zeromq';
import type {
  Connection,
  ConnectionOptions,
  ConnectionSnapshot,
} from '../../../main/core/transport/connection';
import { RequestError } from '../../../main/core/transport/requestError';
import { healthReply } from '../../helpers/healthReply';
import { PortAllocator } from '../../helpers/ports';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import { waitUntil } from '../../helpers/wait';
import { startConnection } from './connectionKit';

/**
 * The connection state machine when a server is lost (docs/ARCHITECTURE.md §4.1): offline at
 * once when told, one steady `offline` (never back to `connecting`) while it retries, and the
 * countdown data the UI shows. Real DEALER and ROUTER sockets on loopback.
 */
const ports = new PortAllocator(28600, 28649);
const open: { close(): unknown }[] = [];

afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

/** A started Connection with 200 ms health checks and 100–300 ms reconnects (`opts` override). */
function connect(port: number, opts: Partial<ConnectionOptions> = {}): Connection {
  return startConnection(open, `tcp://127.0.0.1:${port}`, 200, { reconnectMaxMs: 300, ...opts });
}

/** Every snapshot `c` reports, from now on. */
function record(c: Connection): ConnectionSnapshot[] {
  const seen: ConnectionSnapshot[] = [];
  c.onChange((s) => seen.push(s));
  return seen;
}

/** A ROUTER that answers health checks while `answering()` says so. */
async function healthServer(port: number, answering: () => boolean = () => true): Promise<zmq.Router> {
  const router = await startScriptedRouter(port, async (req, send) => {
    if (answering() && req.type === 'health_check_request')
      await send(healthReply(req, { capabilities: 'dedupe' }));
  });
  open.push(router);
  return router;
}

const waitFor = (c: Connection, test: (s: ConnectionSnapshot) => boolean, what: string, timeoutMs = 5000) =>
  waitUntil(() => (test(c.snapshot()) ? c.snapshot() : undefined), { timeoutMs, what, intervalMs: 10 });

/** A connection that was online and is then told its server is lost; its next attempt is a minute away. */
async function lostWithLongBackoff(reason: string): Promise<Connection> {
  const port = await ports.next();
  await healthServer(port);
  const c = connect(port, { reconnectInitialMs: 60_000, reconnectMaxMs: 60_000 });
  await waitFor(c, (s) => s.state === 'online', 'online');
  c.markLost(reason);
  return c;
}

describe('Connection when a server is lost', () => {
  it('is connecting only before the first contact; a server never reached stays offline through its retries', async () => {
    const port = await ports.next();
    const c = connect(port);
    const seen = record(c);
    expect(c.snapshot()).toMatchObject({ state: 'connecting', retrying: false });
    // Several attempts (100–300 ms backoff, one 200 ms health check each) go by.
    await waitUntil(() => (seen.filter((s) => s.retrying).length >= 3 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'three reconnect attempts',
    });
    const states = seen.map((s) => s.state);
    expect(states[0]).toBe('offline');
    expect(new Set(states)).toEqual(new Set(['offline']));
    // While waiting: a countdown in the future; while retrying: none.
    for (const s of seen) {
      if (s.retrying) expect(s.nextAttemptAt).toBeNull();
      else expect(s.nextAttemptAt).toEqual(expect.any(Number));
    }
    expect(seen.some((s) => !s.retrying)).toBe(true);
    expect(c.snapshot().lastError).toMatch(/no answer to 1 health check/);
  });

  it('goes offline at once with the given reason, keeps it through failed retries and fails requests fast', async () => {
    const port = await ports.next();
    let answering = true;
    await healthServer(port, () => answering);
    const c = connect(port, { heartbeatIntervalMs: 5000 });
    await waitFor(c, (s) => s.state === 'online', 'online');
    const heardAt = c.snapshot().lastHeardAt;
    answering = false;
    // A request waiting for its reply when the server is lost: the server may have run it.
    const waiting = c
      .request({ type: 'list_agents_request', request_id: randomUUID() })
      .catch((e: unknown) => e);

    const reason = 'the embedded server exited (signal SIGKILL)';
    c.markLost(reason);
    // Synchronously: no health check has to go unanswered first.
    expect(c.snapshot()).toMatchObject({ state: 'offline', lastError: reason, retrying: false });
    expect(c.snapshot().nextAttemptAt).toBeGreaterThan(Date.now() - 1);
    expect(c.snapshot().lastHeardAt).toBe(heardAt);
    const lost = await waiting;
    expect(lost).toBeInstanceOf(RequestError);
    expect((lost as RequestError).code).toBe('connection_lost');

    // Retrying against a server that does not answer: still offline, still the same reason.
    const seen = record(c);
    await waitUntil(
      () =>
        seen.filter((s) => s.retrying).length >= 1 && seen.at(-1)?.retrying === false ? true : undefined,
      {
        timeoutMs: 15_000,
        what: 'a failed reconnect attempt',
      },
    );
    expect(seen.map((s) => s.state).every((s) => s === 'offline')).toBe(true);
    expect(seen.map((s) => s.lastError).every((e) => e === reason)).toBe(true);

    // Queries fail fast while offline, even during an attempt.
    const refused = await c
      .request({ type: 'list_agents_request', request_id: randomUUID() })
      .catch((e: unknown) => e);
    expect((refused as RequestError).code).toBe('offline');
    expect((refused as RequestError).message).toContain(reason);

    answering = true;
    await waitFor(c, (s) => s.state === 'online', 'back online', 15_000);
    expect(c.snapshot()).toMatchObject({ lastError: null, retrying: false, nextAttemptAt: null });
  }, 30_000);

  it('goes from offline straight to online when an attempt is answered, never through connecting', async () => {
    const port = await ports.next();
    const c = connect(port);
    await waitFor(c, (s) => s.state === 'offline', 'offline');
    const seen = record(c);
    await healthServer(port);
    await waitFor(c, (s) => s.state === 'online', 'online');
    const states = seen.map((s) => s.state);
    expect(states).not.toContain('connecting');
    const first = states.indexOf('online');
    expect(first).toBeGreaterThan(0);
    expect(states.slice(0, first).every((s) => s === 'offline')).toBe(true);
  });

  it('stays offline on a sign of life while no attempt is under way', async () => {
    const c = await lostWithLongBackoff('gone');
    // A PUB heartbeat proves the process lives, not that commands can reach it: no socket is open.
    c.noteAlive();
    expect(c.snapshot()).toMatchObject({ state: 'offline', retrying: false });
  });

  it('retries now when asked, instead of at the scheduled time', async () => {
    const c = await lostWithLongBackoff('the embedded server exited (exit code 1)');
    expect(c.snapshot().nextAttemptAt).toBeGreaterThan(Date.now() + 30_000);
    c.retryNow();
    expect(c.snapshot()).toMatchObject({ state: 'offline', retrying: true, nextAttemptAt: null });
    await waitFor(c, (s) => s.state === 'online', 'online after retryNow');
  });

  it('retryNow replaces an attempt under way, so a server that is back is reached at once', async () => {
    const port = await ports.next();
    let answering = true;
    let checks = 0;
    await healthServer(port, () => {
      checks++;
      return answering;
    });
    // Health checks (and so an attempt's own check) wait a minute for their answer.
    const c = connect(port, { heartbeatIntervalMs: 60_000, reconnectInitialMs: 10, reconnectMaxMs: 10 });
    await waitFor(c, (s) => s.state === 'online', 'online');
    answering = false;
    const before = checks;
    c.markLost('the fleet went down');
    // The attempt's check reached the server and went unanswered: the attempt waits on it.
    await waitUntil(() => (checks > before && c.snapshot().retrying ? true : undefined), {
      timeoutMs: 5000,
      what: 'an attempt whose health check is unanswered',
    });
    answering = true;
    c.retryNow();
    expect(c.snapshot()).toMatchObject({ state: 'offline', retrying: true, nextAttemptAt: null });
    await waitFor(c, (s) => s.state === 'online', 'online after retryNow replaced the attempt');
  });

  it('ignores markLost and retryNow once closed', async () => {
    const port = await ports.next();
    const c = connect(port);
    await c.close();
    c.markLost('late');
    c.retryNow();
    expect(c.snapshot()).toMatchObject({ state: 'closed', lastError: null, retrying: false });
  });
});
