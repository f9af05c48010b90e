/**
 * A listener that throws must not end a receive loop: with a real PUB socket, the event
 * subscriber keeps delivering status updates after one of its listeners threw.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as zmq from 'zeromq';
import { encodeMessage, type StatusUpdate } from '../../../shared/protocol';
import { EventSubscriber } from '../../../main/core/transport/eventSubscriber';
import { PortAllocator } from '../../helpers/ports';
import { sleep, waitUntil } from '../../helpers/wait';

const ports = new PortAllocator(24900, 24949);
const AGENT = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

function frame(seq: number): Buffer {
  const update: StatusUpdate = {
    type: 'status_update',
    agent_id: AGENT,
    update_type: 'heartbeat',
    status: null,
    message: `n${seq}`,
    data: { seq },
    timestamp: { secs_since_epoch: 1_764_000_000, nanos_since_epoch: 0 },
  };
  return Buffer.concat([Buffer.from(`status.${AGENT}\0`), Buffer.from(encodeMessage(update))]);
}

describe('receive loops survive a throwing listener', () => {
  it('the event subscriber delivers the next status update after a listener threw', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
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
    const seen: string[] = [];
    events.onStatus((u) => {
      seen.push(u.message ?? '');
      if (seen.length === 1) throw new Error('a listener bug');
    });
    events.connect(endpoint);
    let n = 0;
    await waitUntil(
      async () => {
        await pub.send(frame(n++));
        await sleep(20);
        return seen.length >= 3 ? true : undefined;
      },
      { timeoutMs: 10_000, what: 'three status updates, the first one thrown at' },
    );
    expect(errors).toHaveBeenCalledWith('event subscriber: handling an event failed', expect.any(Error));
  });
});
