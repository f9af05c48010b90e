/**
 * A listener that throws must not end a receive loop, nor keep the other listeners from hearing:
 * with a real PUB socket the event subscriber keeps delivering status updates, gaps and log
 * chunks; with a real ROUTER the connection keeps delivering late replies.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as zmq from 'zeromq';
import type { RequestMessage, ZmqMessage } from '../../../shared/protocol';
import { Connection } from '../../../main/core/transport/connection';
import { EventSubscriber } from '../../../main/core/transport/eventSubscriber';
import { healthReply } from '../../helpers/healthReply';
import { PortAllocator } from '../../helpers/ports';
import { logEventFrame, statusEventFrame } from '../../helpers/eventFrames';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import { sleep, waitUntil } from '../../helpers/wait';

const ports = new PortAllocator(24900, 24949);
const AGENT = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

const frame = (seq: number): Buffer => statusEventFrame(AGENT, `n${seq}`, { seq });
const logFrame = (sequence: number): Buffer =>
  logEventFrame(AGENT, sequence, new TextEncoder().encode(`line ${sequence}\n`));

/** A bound PUB socket and an event subscriber on it, both closed after the test. */
async function publisherAndSubscriber(): Promise<{
  pub: zmq.Publisher;
  events: EventSubscriber;
  endpoint: string;
}> {
  const pub = new zmq.Publisher({ linger: 0 });
  const endpoint = `tcp://127.0.0.1:${await ports.next()}`;
  await pub.bind(endpoint);
  cleanups.push(() => {
    pub.close();
  });
  const events = new EventSubscriber({ curve: null });
  cleanups.push(() => {
    events.close();
  });
  return { pub, events, endpoint };
}

/** Publishes `make(n)` for n = 1, 2, … until `done()` (PUB drops what is sent before SUB joined). */
async function publishUntil(
  pub: zmq.Publisher,
  make: (n: number) => Buffer,
  done: () => boolean,
  what: string,
): Promise<void> {
  let n = 1;
  await waitUntil(
    async () => {
      await pub.send(make(n++));
      await sleep(20);
      return done() ? true : undefined;
    },
    { timeoutMs: 10_000, what },
  );
}

describe('receive loops survive a throwing listener', () => {
  it('the event subscriber delivers the next status update after a listener threw', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { pub, events, endpoint } = await publisherAndSubscriber();
    const seen: string[] = [];
    events.onStatus((u) => {
      seen.push(u.message ?? '');
      if (seen.length === 1) throw new Error('a listener bug');
    });
    events.connect(endpoint);
    await publishUntil(pub, frame, () => seen.length >= 3, 'three status updates, the first one thrown at');
    expect(errors).toHaveBeenCalledWith('event subscriber: a listener failed', expect.any(Error));
  });

  it('a status listener that throws keeps neither the other status listeners nor, after a gap, any of them from the update', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { pub, events, endpoint } = await publisherAndSubscriber();
    events.onStatusGap(() => {
      throw new Error('a gap listener bug');
    });
    events.onStatus(() => {
      throw new Error('a status listener bug');
    });
    const seen: string[] = [];
    events.onStatus((u) => seen.push(u.message ?? ''));
    events.connect(endpoint);
    // Every update after the first skips a seq: a gap each time.
    await publishUntil(
      pub,
      (n) => frame(n * 2),
      () => seen.length >= 3,
      'three updates at the second listener',
    );
    expect(errors).toHaveBeenCalledWith('event subscriber: a listener failed', expect.any(Error));
  });

  it("a log tail's onGap that throws does not cost the chunk its onChunk", async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { pub, events, endpoint } = await publisherAndSubscriber();
    const sequences: number[] = [];
    events.tail(AGENT, {
      onGap: () => {
        throw new Error('a gap handler bug');
      },
      onChunk: (c) => sequences.push(Number(c.sequence)),
    });
    events.connect(endpoint);
    // Sequences 2, 4, 6…: every chunk after the first follows a gap.
    await publishUntil(
      pub,
      (n) => logFrame(n * 2),
      () => sequences.length >= 3,
      'three chunks after gaps',
    );
  });

  it('a late-reply listener that throws does not keep the others from the late reply', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await ports.next();
    const held: ((m: ZmqMessage) => Promise<void>)[] = [];
    const router = await startScriptedRouter(port, async (req: RequestMessage, send) => {
      if (req.type === 'health_check_request') {
        await send(healthReply(req));
        return;
      }
      held.push(send);
    });
    cleanups.push(() => {
      router.close();
    });
    const c = new Connection({ endpoint: `tcp://127.0.0.1:${port}`, heartbeatIntervalMs: 200 });
    cleanups.push(() => c.close());
    c.start();
    await waitUntil(() => (c.snapshot().state === 'online' ? true : undefined), { what: 'online' });
    c.onLateReply(() => {
      throw new Error('a late-reply listener bug');
    });
    const late: string[] = [];
    c.onLateReply((r) => late.push(r.request_id));
    const id = randomUUID();
    const request = {
      type: 'control_command',
      request_id: id,
      agent_id: AGENT,
      command_type: 'stop',
    } as const;
    await expect(c.request(request, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'timeout' });
    const send = held[0];
    if (!send) throw new Error('the scripted server never saw the request');
    await send({ type: 'command_response', request_id: id, agent_id: AGENT, success: true });
    await waitUntil(() => (late.includes(id) ? true : undefined), {
      what: 'the late reply at the second listener',
    });
    expect(c.snapshot().state).toBe('online');
  });
});
