import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type * as zmq from 'zeromq';
import type { RequestMessage, ZmqMessage } from '../../../shared/protocol';
import type { Connection, ConnectionOptions, ConnectionState } from '../../../main/core/transport/connection';
import { RequestError } from '../../../main/core/transport/requestError';
import { healthReply } from '../../helpers/healthReply';
import { PortAllocator } from '../../helpers/ports';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import { stopAllServers, startServerProcess } from '../../helpers/serverProcess';
import { waitUntil } from '../../helpers/wait';
import { startConnection, waitForState } from './connectionKit';
import { curveOf } from './curveKit';

const ports = new PortAllocator(26000, 26499);
const open: { close(): unknown }[] = [];

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});
afterAll(async () => {
  await stopAllServers();
});

/** A scripted ROUTER (see startScriptedRouter), closed after the test. */
async function scriptedRouter(
  port: number,
  answer: Parameters<typeof startScriptedRouter>[1],
): Promise<zmq.Router> {
  const router = await startScriptedRouter(port, answer);
  open.push(router);
  return router;
}

function connect(port: number, opts: Partial<ConnectionOptions> = {}): Connection {
  return startConnection(open, `tcp://127.0.0.1:${port}`, 200, opts);
}

const waitState = (c: Connection, state: ConnectionState, timeoutMs = 5000): Promise<true> =>
  waitForState(c, state, timeoutMs);

describe('Connection against the real agent server', () => {
  it('goes online, reads capabilities and answers requests correlated by request_id', async () => {
    const port = await ports.next();
    const server = await startServerProcess({
      port,
      pubPort: await ports.next(),
      args: ['--server-id', 'conn-test'],
    });
    const c = connect(port, { curve: curveOf(server) });
    await waitState(c, 'online');
    const info = c.snapshot().info;
    expect(info?.serverId).toBe('conn-test');
    expect(info?.legacy).toBe(false);
    expect([...(info?.capabilities ?? [])]).toEqual(
      expect.arrayContaining(['custom_action', 'batch', 'output_query', 'dedupe', 'status_stream']),
    );
    expect(c.snapshot().lastHeardAt).toBeGreaterThan(Date.now() - 5000);

    const ids = Array.from({ length: 500 }, () => randomUUID());
    const replies = await Promise.all(
      ids.map((id) => c.request({ type: 'list_agents_request', request_id: id })),
    );
    expect(replies.map((r) => r.request_id)).toEqual(ids);
    expect(replies.every((r) => r.success)).toBe(true);
    await server.stop();
  });

  it('fails fast while the server is down, then reconnects when it comes back', async () => {
    const port = await ports.next();
    const pubPort = await ports.next();
    // Plain, against a server started plain: the reconnect path is the same for both.
    const c = connect(port);
    await waitState(c, 'offline');
    const before = Date.now();
    const err = await c
      .request({ type: 'list_agents_request', request_id: randomUUID() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).code).toBe('offline');
    expect((err as RequestError).outcomeUnknown).toBe(false);
    expect((err as RequestError).message).toContain(`tcp://127.0.0.1:${port} is offline (never reached`);
    expect(Date.now() - before).toBeLessThan(100);

    const server = await startServerProcess({ port, pubPort, insecure: true });
    await waitState(c, 'online', 10_000);
    const reply = await c.request({ type: 'health_check_request', request_id: randomUUID() });
    expect(reply.healthy).toBe(true);

    // The server vanishes: in-flight requests are abandoned as "outcome unknown", the state
    // degrades and then goes offline.
    await server.kill();
    await waitState(c, 'offline', 10_000);
    expect(c.snapshot().lastError).toMatch(/no answer to \d health checks? in a row/);
    expect(c.snapshot().nextAttemptAt).not.toBeNull();
  });
});

describe('Connection against misbehaving peers', () => {
  it('rejects a reply of the wrong type for a request as a protocol error', async () => {
    const port = await ports.next();
    await scriptedRouter(port, async (req, send) => {
      if (req.type === 'health_check_request') return send(healthReply(req));
      return send({ type: 'list_agents_response', request_id: req.request_id, success: true, agents: [] });
    });
    const c = connect(port);
    await waitState(c, 'online');
    const err = await c
      .request({
        type: 'control_command',
        request_id: randomUUID(),
        agent_id: randomUUID(),
        command_type: 'pause',
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).code).toBe('protocol');
    expect((err as RequestError).message).toMatch(
      /expected command_response for request .+, got list_agents_response/,
    );
  });

  it('never takes a reply with another request_id as the answer; times out with outcome unknown; reports the late reply', async () => {
    const port = await ports.next();
    const held: { req: RequestMessage; send: (m: ZmqMessage) => Promise<void> }[] = [];
    await scriptedRouter(port, async (req, send) => {
      if (req.type === 'health_check_request') return send(healthReply(req));
      await send({
        type: 'command_response',
        request_id: 'someone-else',
        agent_id: randomUUID(),
        success: true,
      });
      held.push({ req, send });
    });
    const c = connect(port);
    await waitState(c, 'online');
    const late: string[] = [];
    c.onLateReply((r) => late.push(r.request_id));
    const id = randomUUID();
    const err = await c
      .request(
        { type: 'control_command', request_id: id, agent_id: randomUUID(), command_type: 'stop' },
        { timeoutMs: 300 },
      )
      .catch((e: unknown) => e);
    expect((err as RequestError).code).toBe('timeout');
    expect((err as RequestError).outcomeUnknown).toBe(true);
    expect((err as RequestError).message).toContain('the server may still have run it');

    const h = held[0];
    if (!h) throw new Error('the scripted server never saw the request');
    await h.send({ type: 'command_response', request_id: id, agent_id: randomUUID(), success: true });
    await waitUntil(() => (late.includes(id) ? true : undefined), { what: 'late reply' });
  });

  it('times out each request at its own deadline, whatever the order they were sent in', async () => {
    const port = await ports.next();
    const held = new Map<string, (m: ZmqMessage) => Promise<void>>();
    await scriptedRouter(port, async (req, send) => {
      if (req.type === 'health_check_request') return send(healthReply(req));
      held.set(req.request_id, send); // answered only when the test says so
    });
    const c = connect(port, { heartbeatIntervalMs: 60_000 });
    await waitState(c, 'online');
    const control = (): RequestMessage => ({
      type: 'control_command',
      request_id: randomUUID(),
      agent_id: randomUUID(),
      command_type: 'get_status',
    });
    const settledAt = new Map<string, { at: number; outcome: string }>();
    const track = (req: RequestMessage, timeoutMs: number): Promise<void> =>
      c.request(req, { timeoutMs }).then(
        () => {
          settledAt.set(req.request_id, { at: performance.now(), outcome: 'reply' });
        },
        (e: unknown) => {
          settledAt.set(req.request_id, { at: performance.now(), outcome: (e as RequestError).code });
        },
      );
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const answered = control();
    const long = control();
    const short = control();
    const t0 = performance.now();
    const answeredDone = track(answered, 10_000);
    const longDone = track(long, 1_000);
    const shortDone = track(short, 200); // sent last, due first
    await shortDone;
    expect(settledAt.get(short.request_id)?.outcome).toBe('timeout');
    expect((settledAt.get(short.request_id)?.at ?? 0) - t0).toBeGreaterThanOrEqual(199);
    expect((settledAt.get(short.request_id)?.at ?? 0) - t0).toBeLessThan(900);
    expect(c.inFlight).toBe(2);

    // The next deadline still goes off after the first one did.
    await Promise.race([
      longDone,
      new Promise((resolve) => setTimeout(resolve, 5_000)).then(() => {
        throw new Error('the 1 s request did not time out within 5 s');
      }),
    ]);
    expect(settledAt.get(long.request_id)?.outcome).toBe('timeout');
    expect((settledAt.get(long.request_id)?.at ?? 0) - t0).toBeGreaterThanOrEqual(999);
    expect((settledAt.get(long.request_id)?.at ?? 0) - t0).toBeLessThan(3_000);

    // The one with time left is untouched by both and takes its reply.
    expect(settledAt.has(answered.request_id)).toBe(false);
    await waitUntil(() => (held.has(answered.request_id) ? true : undefined), {
      what: 'the answered request',
    });
    await held.get(answered.request_id)?.({
      type: 'command_response',
      request_id: answered.request_id,
      agent_id: randomUUID(),
      success: true,
    });
    await answeredDone;
    expect(settledAt.get(answered.request_id)?.outcome).toBe('reply');
    expect(c.inFlight).toBe(0);
    // With nothing waiting, no timeout timer is left to keep the process alive.
    expect(timers()).toBe(timersBefore);
  });

  it('refuses a timeout that is not a positive number of milliseconds, sending nothing', async () => {
    const port = await ports.next();
    const seen: string[] = [];
    await scriptedRouter(port, async (req, send) => {
      if (req.type === 'health_check_request') return send(healthReply(req));
      seen.push(req.request_id);
    });
    const c = connect(port, { heartbeatIntervalMs: 60_000 });
    await waitState(c, 'online');
    for (const timeoutMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const err = await c
        .request(
          { type: 'control_command', request_id: randomUUID(), agent_id: randomUUID(), command_type: 'stop' },
          { timeoutMs },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RequestError);
      expect((err as RequestError).message).toContain(
        `timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
      );
    }
    expect(c.inFlight).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
  });

  it('keeps the heartbeat on time while other requests time out around it', async () => {
    const port = await ports.next();
    const checks: number[] = [];
    let answerHealth = true;
    await scriptedRouter(port, async (req, send) => {
      if (req.type !== 'health_check_request') return; // never answered
      checks.push(performance.now());
      if (answerHealth) await send(healthReply(req));
    });
    const c = connect(port, { heartbeatIntervalMs: 300, missesUntilOffline: 100 });
    await waitState(c, 'online');
    // Short requests keep the shared timeout timer busy; health checks go unanswered.
    answerHealth = false;
    const from = checks.length;
    const deadline = performance.now() + 1_700;
    while (performance.now() < deadline) {
      void c
        .request(
          {
            type: 'control_command',
            request_id: randomUUID(),
            agent_id: randomUUID(),
            command_type: 'get_status',
          },
          { timeoutMs: 70 },
        )
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 30));
    }
    const times = checks.slice(from);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
    // One check per 300 ms tick: a tick skipped because the last check's timeout had not
    // gone off yet would show as a gap of 600 ms.
    expect(times.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...gaps)).toBeLessThan(450);
  });

  it('treats a peer that sends requests back (e.g. a DEALER connected to itself) as broken', async () => {
    const port = await ports.next();
    await scriptedRouter(port, async (req, send) => {
      await send(req); // echo the request instead of answering
    });
    const c = connect(port);
    await waitState(c, 'offline');
    expect(c.snapshot().lastError).toMatch(/sent a health_check_request, not a reply/);
  });

  it('degrades when health checks go unanswered, then goes offline', async () => {
    const port = await ports.next();
    let answering = true;
    await scriptedRouter(port, async (req, send) => {
      if (answering) await send(healthReply(req, { capabilities: 'dedupe' }));
    });
    const c = connect(port, { missesUntilOffline: 3 });
    const seen: ConnectionState[] = [];
    c.onChange((s) => {
      if (seen.at(-1) !== s.state) seen.push(s.state);
    });
    await waitState(c, 'online');
    answering = false;
    await waitState(c, 'offline', 5000);
    expect(seen).toEqual(expect.arrayContaining(['online', 'degraded', 'offline']));
    expect(seen.indexOf('degraded')).toBeLessThan(seen.indexOf('offline'));
  });

  it('knows a Rust 1.0.0 server by its missing capabilities', async () => {
    const port = await ports.next();
    await scriptedRouter(port, (req, send) => send(healthReply(req, { hostname: 'rust-box' })));
    const c = connect(port);
    await waitState(c, 'online');
    expect(c.snapshot().info?.legacy).toBe(true);
    expect(c.snapshot().info?.capabilities.size).toBe(0);
  });

  it('refuses a request over 10 MiB without sending it', async () => {
    const port = await ports.next();
    let received = 0;
    await scriptedRouter(port, async (req, send) => {
      received++;
      await send(healthReply(req));
    });
    const c = connect(port);
    await waitState(c, 'online');
    const before = received;
    const err = await c
      .request({
        type: 'control_command',
        request_id: randomUUID(),
        agent_id: randomUUID(),
        command_type: 'write_stdin',
        payload: { data: 'x'.repeat(11 * 1024 * 1024) },
      })
      .catch((e: unknown) => e);
    expect((err as RequestError).code).toBe('too_large');
    expect((err as RequestError).outcomeUnknown).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    // Only health checks arrived in the meantime; nothing else was sent.
    expect(received - before).toBeLessThanOrEqual(3);
    expect(c.snapshot().state).toBe('online');
  });

  it('matches replies that arrive out of order', async () => {
    const port = await ports.next();
    const batch: { req: RequestMessage; send: (m: ZmqMessage) => Promise<void> }[] = [];
    await scriptedRouter(port, async (req, send) => {
      if (req.type === 'health_check_request') return send(healthReply(req));
      batch.push({ req, send });
      if (batch.length === 100) {
        for (const b of batch.reverse()) {
          await b.send({
            type: 'command_response',
            request_id: b.req.request_id,
            agent_id: (b.req as { agent_id: string }).agent_id,
            success: true,
          });
        }
      }
    });
    const c = connect(port);
    await waitState(c, 'online');
    const agents = Array.from({ length: 100 }, () => randomUUID());
    const replies = await Promise.all(
      agents.map((agent_id) =>
        c.request({
          type: 'control_command',
          request_id: randomUUID(),
          agent_id,
          command_type: 'get_status',
        }),
      ),
    );
    expect(replies.map((r) => r.agent_id)).toEqual(agents);
  });
});
