/**
 * `Publisher.sent()` (server/publisher.ts): resolves once what was queued has been handed to
 * the PUB socket, so a caller can tell the publishing side is done. Real sockets: closed at
 * once after `sent()` (a close that waits for nothing), the publisher still delivers every
 * event queued before, in order.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { decodeMessage, encodeMessage } from '../../../shared/protocol';
import { Publisher } from '../../../server/publisher';
import { ServerSecurity } from '../../../server/security/serverSecurity';
import { Stats } from '../../../server/stats';
import { PortAllocator } from '../../helpers/ports';

const ports = new PortAllocator(31600, 31699);
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('Publisher.sent', () => {
  it('resolves at once with nothing queued, and after a burst once the socket has taken all of it', async () => {
    const stats = new Stats();
    const security = await ServerSecurity.start({ mode: 'none' }, stats, () => undefined);
    cleanup.push(() => security.close());
    const endpoint = `tcp://127.0.0.1:${await ports.next()}`;
    const publisher = await Publisher.bind(endpoint, stats, encodeMessage, security);
    cleanup.push(() => publisher.close(0));
    await publisher.sent();

    const sub = new zmq.Subscriber({ linger: 0 });
    cleanup.push(() => {
      sub.close();
    });
    const agent = randomUUID();
    const probe = randomUUID();
    sub.subscribe(agent, `status.${probe}`);
    sub.connect(endpoint);
    // A PUB drops what it sends before the subscription arrives: probe until one comes through.
    const frames = sub[Symbol.asyncIterator]();
    // One receive at a time (a second concurrent one is refused): the first frame is a probe.
    const first = frames.next();
    const state = { joined: false };
    void first.then(() => {
      state.joined = true;
    });
    while (!state.joined) {
      publisher.status(probe, 'heartbeat', null, null);
      await new Promise((r) => setTimeout(r, 50));
    }

    for (let i = 0; i < 2000; i++) publisher.log(agent, 'stdout', Buffer.from(`line ${i}\n`));
    await publisher.sent();
    // Closing without waiting drops what still waits in the send queue: nothing does any more.
    await publisher.close(0);
    expect(stats.snapshot().pub_dropped).toBe(0);
    const sequences: number[] = [];
    while (sequences.length < 2000) {
      const next = await frames.next();
      if (next.done === true) break;
      const [frame] = next.value;
      if (!frame) continue;
      const msg = decodeMessage(frame.subarray(frame.indexOf(0) + 1));
      if (msg.type === 'log_stream') sequences.push(Number(msg.sequence));
    }
    expect(sequences).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });
});
